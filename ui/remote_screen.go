package ui

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core/remote"
	"adhocstation/core/wire"
)

// The Screen tab: the PC's live desktop, viewed and, with Control on,
// controlled; Ctrl+Alt+Del as a button; the text clipboard both ways while
// Control is on.

// Job names of the Screen tab.
const (
	jobScreenStart   = "screen start"   // viewing started or was refused
	jobScreenFrame   = "screen frame"   // a frame is on screen
	jobScreenInfo    = "screen info"    // the monitors or desktop changed
	jobScreenClip    = "screen clip"    // the PC's clipboard reached the station's
	jobScreenStopped = "screen stopped" // the PC ended the view
)

// screenFPS are the frame-rate caps offered.
var screenFPS = []string{"5 fps", "10 fps", "15 fps", "30 fps", "60 fps"}

const (
	allMonitors  = "All monitors"
	clipboardGap = 700 * time.Millisecond // how often the station's clipboard is looked at
)

// screenBackground surrounds the image when its shape differs from the view's.
var screenBackground = color.NRGBA{R: 0x20, G: 0x20, B: 0x20, A: 0xff}

// viewingStopped is said over the last picture once a view ended, so a
// frozen picture is never taken for the PC's live screen.
const viewingStopped = "Viewing stopped"

// screenDim darkens the last picture after a view ended.
var screenDim = color.NRGBA{A: 0xa0}

type screenTab struct {
	rs   *remote.RemoteSession
	work *background
	app  fyne.App

	view    *screenView
	scroll  *container.Scroll
	start   *widget.Button
	stop    *widget.Button
	refresh *widget.Button // asks the PC for a whole frame
	control *widget.Check
	actual  *widget.Check // 1:1 instead of fitting the window
	monitor *widget.Select
	fps     *widget.Select
	sas     *widget.Button
	status  *widget.Label // a refusal or why the view ended
	desktop *widget.Label // the secure desktop note
	// stopped dims the view and says viewingStopped over it (hidden while
	// viewing and before the first view).
	stopped     *fyne.Container
	stoppedNote *canvas.Text

	screen   *remote.Screen // while viewing; set and read on the Fyne goroutine
	gen      int            // counts views started and ended, so a late result is known
	info     wire.ScreenInfo
	lastClip string        // the clipboard text both sides last agreed on
	clipStop chan struct{} // ends the clipboard watch
	// clipEvery is how often the station's clipboard is looked at while
	// Control is on (0: only when syncClipboard is called, as in tests).
	clipEvery time.Duration
}

func newScreenTab(a fyne.App, rs *remote.RemoteSession, work *background) (*screenTab, fyne.CanvasObject) {
	t := &screenTab{rs: rs, work: work, app: a, clipEvery: clipboardGap}
	t.view = newScreenView(t.input)
	t.scroll = container.NewScroll(t.view)
	t.view.scroll = t.scroll
	t.start = &widget.Button{Text: "Start viewing", Icon: theme.VisibilityIcon(), Importance: widget.HighImportance, OnTapped: t.onStart}
	t.stop = &widget.Button{Text: "Stop", Icon: theme.VisibilityOffIcon(), OnTapped: t.onStop}
	// Refresh is an icon only: with its name the bar would not fit the
	// smallest window (760 pixels for the page).
	t.refresh = &widget.Button{Icon: theme.ViewRefreshIcon(), OnTapped: t.onRefresh}
	t.control = widget.NewCheck("Control", t.onControl)
	t.actual = widget.NewCheck("1:1", func(on bool) { t.view.setFit(!on) })
	t.monitor = widget.NewSelect([]string{allMonitors}, t.onMonitor)
	t.monitor.SetSelected(allMonitors)
	t.fps = widget.NewSelect(screenFPS, t.onFPS)
	t.fps.SetSelected("30 fps")
	t.sas = &widget.Button{Text: "Ctrl+Alt+Del", OnTapped: t.onSAS}
	t.status = &widget.Label{Wrapping: fyne.TextWrapWord, Importance: widget.DangerImportance}
	t.status.Hide()
	t.desktop = &widget.Label{Wrapping: fyne.TextWrapWord, Importance: widget.WarningImportance}
	t.desktop.Hide()
	t.viewing(false)
	// The selects get fixed widths: their own minimum cuts the choices
	// short, and one row must fit the window's 760 pixels.
	h := t.monitor.MinSize().Height
	bar := container.NewHBox(t.start, t.stop, t.refresh, t.control, t.sas, t.actual,
		container.NewGridWrap(fyne.NewSize(140, h), t.monitor), container.NewGridWrap(fyne.NewSize(100, h), t.fps))
	top := container.NewVBox(container.NewHScroll(bar), t.status, t.desktop)
	// The note sits over the scroll, not in the view, so it stays in sight
	// when a 1:1 picture is scrolled.
	t.stoppedNote = &canvas.Text{Text: viewingStopped, Color: color.White, TextStyle: fyne.TextStyle{Bold: true},
		TextSize: 1.5 * theme.TextSize()}
	note := container.NewStack(canvas.NewRectangle(color.NRGBA{A: 0xc0}), container.NewPadded(t.stoppedNote))
	t.stopped = container.NewStack(canvas.NewRectangle(screenDim), container.NewCenter(note))
	t.stopped.Hide()
	return t, container.NewBorder(top, nil, nil, nil, container.NewStack(t.scroll, t.stopped))
}

// viewing enables the controls that need a running view.
func (t *screenTab) viewing(on bool) {
	for _, w := range []fyne.Disableable{t.stop, t.refresh, t.control, t.monitor, t.fps, t.sas} {
		if on {
			w.Enable()
		} else {
			w.Disable()
		}
	}
	if on {
		t.start.Disable()
	} else {
		t.start.Enable()
		t.control.SetChecked(false)
	}
	if !t.control.Checked {
		t.sas.Disable()
	}
}

// onStart opens the screen stream with the chosen settings.
func (t *screenTab) onStart() {
	if t.screen != nil {
		return
	}
	t.start.Disable()
	t.status.Hide()
	t.gen++
	gen := t.gen
	open := wire.ScreenOpen{Monitor: t.monitorIndex(), MaxFPS: t.maxFPS()}
	rs := t.rs
	h := remote.ScreenHandlers{
		Frame: func(img *image.RGBA, dirty []image.Rectangle) {
			if t.view.receive(img, dirty) {
				t.work.apply(jobScreenFrame, t.view.present)
			}
		},
		Info: func(info wire.ScreenInfo) {
			t.work.apply(jobScreenInfo, func() { t.showInfo(info) })
		},
		Clipboard: func(text string) {
			t.work.apply(jobScreenClip, func() { t.pcClipboard(text) })
		},
		Stopped: func(err error) {
			t.work.apply(jobScreenStopped, func() { t.ended(gen, err) })
		},
	}
	t.work.run(jobScreenStart, func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s, err := rs.Screen(ctx, open, h)
		return func() {
			switch {
			case err != nil:
				t.start.Enable()
				t.showStatus(errorText(err))
				return
			case gen != t.gen: // it already ended, or the window closed
				s.Close()
				return
			}
			t.screen = s
			t.stopped.Hide()
			t.viewing(true)
		}
	})
}

// onStop ends the view from the station's side.
func (t *screenTab) onStop() {
	t.ended(t.gen, nil)
}

// ended leaves view gen; err says why (nil: the technician stopped it).
func (t *screenTab) ended(gen int, err error) {
	if gen != t.gen {
		return // an older view's end
	}
	t.gen++
	if t.screen != nil {
		t.screen.Close()
		t.screen = nil
	}
	t.stopClipboardWatch()
	t.view.setControl(false)
	t.viewing(false)
	t.desktop.Hide()
	t.stopped.Show()
	if err != nil {
		t.showStatus(errorText(err))
	}
}

func (t *screenTab) showStatus(text string) {
	t.status.SetText(text)
	t.status.Show()
}

// onControl switches input and the clipboard on the PC.
func (t *screenTab) onControl(on bool) {
	t.view.setControl(on)
	if t.screen == nil {
		return
	}
	t.screen.SetControl(on)
	if on {
		t.sas.Enable()
		t.lastClip = t.app.Clipboard().Content()
		t.startClipboardWatch()
		if c := fyne.CurrentApp().Driver().CanvasForObject(t.view); c != nil {
			c.Focus(t.view)
		}
	} else {
		t.sas.Disable()
		t.stopClipboardWatch()
	}
}

// input passes the view's events to the PC.
func (t *screenTab) input(ev wire.InputEvent) {
	if t.screen != nil {
		t.screen.Input(ev)
	}
}

func (t *screenTab) onSAS() {
	if t.screen == nil {
		return
	}
	if t.info.SAS != "" {
		t.showStatus(t.info.SAS)
		return
	}
	t.screen.SendSAS()
}

// onRefresh asks the PC for the whole picture again, e.g. when the view
// looks wrong after a lost or garbled update.
func (t *screenTab) onRefresh() {
	if t.screen != nil {
		t.screen.Refresh()
	}
}

func (t *screenTab) onMonitor(string) {
	if t.screen != nil {
		t.screen.SetMonitor(t.monitorIndex())
	}
}

func (t *screenTab) onFPS(string) {
	if t.screen != nil {
		t.screen.SetMaxFPS(t.maxFPS())
	}
}

func (t *screenTab) maxFPS() int {
	n, err := strconv.Atoi(strings.TrimSuffix(t.fps.Selected, " fps"))
	if err != nil {
		return wire.DefaultMaxFPS
	}
	return n
}

// monitorIndex is the chosen monitor; the choices are "All monitors" and
// "N: name (W×H)".
func (t *screenTab) monitorIndex() int {
	i := strings.Index(t.monitor.Selected, ":")
	if i < 0 {
		return wire.AllMonitors
	}
	n, err := strconv.Atoi(t.monitor.Selected[:i])
	if err != nil || n < 1 {
		return wire.AllMonitors
	}
	return n - 1
}

// showInfo lists the monitors and names the secure desktop.
func (t *screenTab) showInfo(info wire.ScreenInfo) {
	t.info = info
	opts := []string{allMonitors}
	selected := allMonitors
	for i, m := range info.Monitors {
		name := m.Name
		if name == "" {
			name = "Monitor"
		}
		o := fmt.Sprintf("%d: %s (%d×%d)", i+1, name, m.Width, m.Height)
		opts = append(opts, o)
		if i == info.Monitor {
			selected = o
		}
	}
	t.monitor.Options = opts
	t.monitor.Selected = selected // without OnChanged: the PC already shows it
	t.monitor.Refresh()
	if info.Desktop == "winlogon" {
		t.desktop.SetText("The PC shows its secure desktop: the sign-in screen or a UAC prompt.")
		t.desktop.Show()
	} else {
		t.desktop.Hide()
	}
}

// pcClipboard puts the PC's clipboard text on the station's.
func (t *screenTab) pcClipboard(text string) {
	if !t.control.Checked {
		return
	}
	t.lastClip = text
	t.app.Clipboard().SetContent(text)
}

// syncClipboard sends the station's clipboard text when it changed.
func (t *screenTab) syncClipboard() {
	if t.screen == nil || !t.control.Checked {
		return
	}
	if text := t.app.Clipboard().Content(); text != t.lastClip {
		t.lastClip = text
		if err := t.screen.SetClipboard(text); err != nil {
			t.showStatus(errorText(err))
		}
	}
}

// startClipboardWatch looks at the station's clipboard every clipEvery
// while Control is on: Fyne tells nobody when it changes.
func (t *screenTab) startClipboardWatch() {
	if t.clipEvery == 0 || t.clipStop != nil {
		return
	}
	stop := make(chan struct{})
	t.clipStop = stop
	go func() {
		tick := time.NewTicker(t.clipEvery)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				doUI(t.syncClipboard)
			case <-stop:
				return
			}
		}
	}()
}

func (t *screenTab) stopClipboardWatch() {
	if t.clipStop != nil {
		close(t.clipStop)
		t.clipStop = nil
	}
}

// close ends the view with the window.
func (t *screenTab) close() {
	t.stopClipboardWatch()
	t.gen++
	if t.screen != nil {
		t.screen.Close()
		t.screen = nil
	}
}
