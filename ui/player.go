package ui

import (
	"context"
	"fmt"
	"image"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/record"
)

// playerWindow plays a session's recording: the PC's screen as the
// technician saw it, with play/pause, speed and a timeline marked with the
// commands, transfers and control changes; the commands and chat beside
// it; Export to a folder and Verify integrity.
type playerWindow struct {
	win  fyne.Window
	st   *core.Station
	name string
	info core.Recording
	work background

	// mu guards the player and the file: seeking, playing and exporting
	// run off the Fyne goroutine, one at a time.
	mu     sync.Mutex
	f      *record.File
	p      *record.Player
	events []playerEvent
	// target is the newest seek asked for: a drag along the timeline asks
	// for many, and only the newest is decoded and shown.
	target atomic.Int64

	// On the Fyne goroutine.
	at      time.Duration
	speed   int
	playing bool
	stop    chan struct{} // closed to stop playing
	closed  bool
	// followed is the list row playing last selected (-1: none); while
	// following is set, selecting a row is playing's, not a seek.
	followed  int
	following bool

	screen   *canvas.Image
	empty    *widget.Label
	playBtn  *widget.Button
	speedSel *widget.Select
	line     *timeline
	pos      *widget.Label
	log      *widget.List
	export   *widget.Button
	verify   *widget.Button
	verdict  *widget.Label
}

// playerEvent is a line of the text beside the screen.
type playerEvent struct {
	t    time.Duration
	typ  byte
	text string
}

// Job names of the player.
const (
	jobPlayerFrame  = "player frame"
	jobPlayerExport = "player export"
	jobPlayerVerify = "player verify"
)

// playTick is how often playing advances the picture.
const playTick = 100 * time.Millisecond

// openPlayer opens the recording name in a player window, or says why it
// cannot in a dialog on parent.
func openPlayer(a fyne.App, st *core.Station, name string, parent fyne.Window) *playerWindow {
	f, info, err := st.OpenRecording(context.Background(), name)
	if err != nil {
		dialog.ShowError(fmt.Errorf("%s", errorText(err)), parent)
		return nil
	}
	pw := newPlayerWindow(a, st, name, f, info)
	pw.seek(0)
	pw.win.Show()
	return pw
}

func newPlayerWindow(a fyne.App, st *core.Station, name string, f *record.File, info core.Recording) *playerWindow {
	w := &playerWindow{win: a.NewWindow(fmt.Sprintf("Recording of session #%d — %s", info.SessionID, f.Meta.Computer)),
		st: st, name: name, info: info, f: f, p: record.NewPlayer(f), speed: 1, followed: -1}
	w.events = readEvents(f)
	w.screen = &canvas.Image{FillMode: canvas.ImageFillContain, ScaleMode: canvas.ImageScaleSmooth}
	w.screen.SetMinSize(fyne.NewSize(480, 300))
	w.empty = &widget.Label{Text: "No screen was viewed yet at this point of the session.", Alignment: fyne.TextAlignCenter}
	w.playBtn = &widget.Button{Text: "Play", Icon: theme.MediaPlayIcon(), OnTapped: w.onPlay}
	w.speedSel = widget.NewSelect([]string{"1×", "2×", "4×"}, w.onSpeed)
	w.speedSel.SetSelected("1×")
	w.line = newTimeline(f.Index.Duration, w.events, w.seek)
	w.pos = &widget.Label{}
	w.log = &widget.List{
		Length:     func() int { return len(w.events) },
		CreateItem: func() fyne.CanvasObject { return &widget.Label{Truncation: fyne.TextTruncateEllipsis} },
		UpdateItem: func(i widget.ListItemID, o fyne.CanvasObject) {
			e := w.events[i]
			o.(*widget.Label).SetText(clockText(e.t) + "  " + e.text)
		},
		OnSelected: func(i widget.ListItemID) {
			if w.following {
				return
			}
			w.followed = i
			w.seek(w.events[i].t)
		},
	}
	w.log.ExtendBaseWidget(w.log)
	w.export = &widget.Button{Text: "Export…", Icon: theme.DownloadIcon(), OnTapped: w.onExport}
	w.verify = &widget.Button{Text: "Verify integrity", Icon: theme.ConfirmIcon(), OnTapped: w.onVerify}
	w.verdict = &widget.Label{Wrapping: fyne.TextWrapWord, Text: playerIntro(info, f)}
	controls := container.NewBorder(nil, nil, container.NewHBox(w.playBtn, w.speedSel), w.pos, w.line)
	left := container.NewBorder(nil, controls, nil, nil, container.NewStack(w.screen, centredMessage(w.empty)))
	split := container.NewHSplit(left, container.NewBorder(titleLabel("Commands, chat and transfers"), nil, nil, nil, w.log))
	split.Offset = 0.68
	bottom := container.NewBorder(nil, nil, nil, container.NewHBox(w.export, w.verify), w.verdict)
	w.win.SetContent(container.NewBorder(nil, bottom, nil, nil, split))
	w.win.Resize(fyne.NewSize(1100, 680))
	w.win.SetOnClosed(w.close)
	closeHidden(w.win)
	return w
}

// playerIntro says what the recording is, and whether it was sealed.
func playerIntro(info core.Recording, f *record.File) string {
	text := fmt.Sprintf("%s signed in to %s on %s; %s recorded.", f.Meta.Technician, f.Meta.Computer,
		f.Meta.Started.Local().Format("Mon 2 Jan 2006 15:04"), clockText(f.Index.Duration))
	switch {
	case !f.Complete:
		text += " The recording is incomplete (the station stopped during the session)."
	case info.Stopped != "":
		text += " Recording stopped early: " + info.Stopped
	}
	return text
}

// readEvents turns the recording's events into lines: commands with their
// output, chat, transfers, control and screen changes, the recorder's notes.
func readEvents(f *record.File) []playerEvent {
	recs, err := f.Events()
	var out []playerEvent
	for _, r := range recs {
		if e, ok := eventLine(r); ok {
			out = append(out, eventRows(e)...)
		}
	}
	if err != nil {
		out = append(out, playerEvent{t: f.Index.Duration, typ: record.TypeNote, text: "The rest does not read: " + errorText(err)})
	}
	return out
}

// eventRows splits an event's text into one row per line: a list row
// holds one line, and a command's multi-line output drawn in one row
// overlapped the rows below it. Blank output lines (PowerShell starts its
// output with one) get no row: an empty row reads as a missing line. The
// recording keeps them; this is only the list.
func eventRows(e playerEvent) []playerEvent {
	lines := strings.Split(e.text, "\n")
	rows := make([]playerEvent, 0, len(lines))
	for _, line := range lines {
		line = strings.TrimRight(line, "\r")
		if e.typ == record.TypeOutput && strings.TrimSpace(line) == "" {
			continue
		}
		rows = append(rows, playerEvent{t: e.t, typ: e.typ, text: line})
	}
	return rows
}

func eventLine(r record.Record) (playerEvent, bool) {
	e := playerEvent{t: r.T, typ: r.Type}
	switch r.Type {
	case record.TypeCommand:
		var c record.Command
		_ = r.Decode(&c)
		e.text = fmt.Sprintf("Command (%s): %s", c.Shell, c.Line)
	case record.TypeOutput:
		var o record.Output
		_ = r.Decode(&o)
		e.text = "   " + strings.ReplaceAll(strings.TrimRight(o.Text, "\r\n"), "\n", "\n   ")
	case record.TypeCommandEnd:
		var c record.CommandEnd
		_ = r.Decode(&c)
		if c.Result == "" {
			return e, false
		}
		e.text = "   " + c.Result
	case record.TypeChat:
		var c record.Chat
		_ = r.Decode(&c)
		switch {
		case c.Notice != "":
			e.text = "Chat notice: " + c.Notice
		default:
			e.text = "Chat, " + c.From + ": " + c.Text
		}
	case record.TypeTransfer:
		var t record.Transfer
		_ = r.Decode(&t)
		dir := "Downloaded " + t.Remote + " to " + t.Local
		if t.Upload {
			dir = "Uploaded " + t.Local + " to " + t.Remote
		}
		if t.Result != "" {
			e.text = dir + " — failed: " + t.Result
		} else {
			e.text = fmt.Sprintf("%s (%s, SHA-256 %s)", dir, sizeText(t.Size), t.SHA256)
		}
	case record.TypeControl, record.TypeScreen:
		var o record.Toggle
		_ = r.Decode(&o)
		what := map[byte]string{record.TypeControl: "Control", record.TypeScreen: "Screen viewing"}[r.Type]
		e.text = what + " off"
		if o.On {
			e.text = what + " on"
		}
	case record.TypeClipboard:
		var c record.Clipboard
		_ = r.Decode(&c)
		first, _, _ := strings.Cut(c.Text, "\n")
		e.text = "Clipboard from the PC: " + first
		if c.ToPC {
			e.text = "Clipboard sent to the PC: " + first
		}
	case record.TypeSAS:
		e.text = "Ctrl+Alt+Del sent"
	case record.TypeNote:
		var n record.Note
		_ = r.Decode(&n)
		e.text = n.Text
	default:
		return e, false
	}
	return e, true
}

// clockText reads like 0:04:05.
func clockText(d time.Duration) string {
	s := int(d / time.Second)
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// seek shows the picture at t.
func (w *playerWindow) seek(t time.Duration) {
	playing := w.playing
	w.pause()
	t = min(max(t, 0), w.f.Index.Duration)
	w.at = t
	w.target.Store(int64(t))
	w.work.run(jobPlayerFrame, w.frameAt(t, true))
	if playing {
		w.onPlay() // on from the new point
	}
}

// frameAt makes the picture at t off the Fyne goroutine and returns how to
// show it.
func (w *playerWindow) frameAt(t time.Duration, seek bool) func() func() {
	return func() func() {
		if seek && w.target.Load() != int64(t) {
			return func() {} // a newer seek follows
		}
		w.mu.Lock()
		var err error
		if seek {
			_, err = w.p.Seek(t)
		} else {
			err = w.p.Advance(t)
		}
		img := cloneImage(w.p.Image())
		w.mu.Unlock()
		return func() {
			if seek && w.at != t {
				return // the technician moved on meanwhile
			}
			w.show(t, img, err)
		}
	}
}

func cloneImage(img *image.RGBA) *image.RGBA {
	if img == nil {
		return nil
	}
	c := *img
	c.Pix = append([]byte(nil), img.Pix...)
	return &c
}

// show puts a picture on screen.
func (w *playerWindow) show(t time.Duration, img *image.RGBA, err error) {
	if err != nil {
		w.setVerdict(errorText(err), widget.DangerImportance)
	}
	if img == nil {
		w.screen.Image = nil
		w.empty.Show()
	} else {
		w.screen.Image = img
		w.empty.Hide()
	}
	w.screen.Refresh()
	w.line.setAt(t)
	w.pos.SetText(clockText(t) + " / " + clockText(w.f.Index.Duration))
}

// shown is the picture on screen (tests).
func (w *playerWindow) shown() *image.RGBA {
	img, _ := w.screen.Image.(*image.RGBA)
	return img
}

func (w *playerWindow) onSpeed(s string) {
	w.speed = map[string]int{"1×": 1, "2×": 2, "4×": 4}[s]
	if w.playing {
		w.pause()
		w.onPlay() // on at the new speed
	}
}

// onPlay plays or pauses.
func (w *playerWindow) onPlay() {
	if w.playing {
		w.pause()
		return
	}
	if w.at >= w.f.Index.Duration {
		w.seek(0)
	}
	w.playing = true
	w.playBtn.SetText("Pause")
	w.playBtn.SetIcon(theme.MediaPauseIcon())
	w.stop = make(chan struct{})
	go w.playLoop(w.stop, w.at, w.speed)
}

func (w *playerWindow) pause() {
	if !w.playing {
		return
	}
	w.playing = false
	close(w.stop)
	w.playBtn.SetText("Play")
	w.playBtn.SetIcon(theme.MediaPlayIcon())
}

// playLoop advances the picture in real time times speed until stopped or
// at the end.
func (w *playerWindow) playLoop(stop <-chan struct{}, from time.Duration, speed int) {
	t := time.NewTicker(playTick)
	defer t.Stop()
	started := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		at := min(from+time.Since(started)*time.Duration(speed), w.f.Index.Duration)
		show := w.frameAt(at, false)()
		end := at >= w.f.Index.Duration
		w.work.apply(jobPlayerFrame, func() {
			select {
			case <-stop:
				return // paused or sought meanwhile
			default:
			}
			w.at = at
			show()
			w.follow(at)
			if end {
				w.pause()
			}
		})
		if end {
			return
		}
	}
}

// follow selects, and scrolls the list to, the last row at or before t,
// so the text beside the screen keeps up with playing; the selection does
// not seek (which would pause).
func (w *playerWindow) follow(t time.Duration) {
	i := sort.Search(len(w.events), func(i int) bool { return w.events[i].t > t }) - 1
	if i < 0 || i == w.followed {
		return
	}
	w.followed = i
	w.following = true
	w.log.Select(i)
	w.following = false
}

// onExport asks for a folder and exports there.
func (w *playerWindow) onExport() {
	dialog.ShowFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			return
		}
		w.exportTo(dir.Path())
	}, w.win)
}

// exportTo writes the recording's copy, its text log with the verification
// result, and the screen at each mark as PNG into a folder under dir.
func (w *playerWindow) exportTo(dir string) {
	w.export.Disable()
	w.setVerdict("Exporting…", widget.MediumImportance)
	at := w.at
	w.work.run(jobPlayerExport, func() func() {
		verified := w.st.VerifyRecording(context.Background(), w.name)
		w.mu.Lock()
		out, err := exportRecording(w.st, w.name, w.f, w.p, w.info, w.events, verified, dir)
		_, _ = w.p.Seek(at)
		w.mu.Unlock()
		return func() {
			w.export.Enable()
			if err != nil {
				w.setVerdict("The export failed: "+errorText(err), widget.DangerImportance)
				return
			}
			w.setVerdict("Exported to "+out+".", widget.MediumImportance)
		}
	})
}

// onVerify checks the recording against the audit log and its seals.
func (w *playerWindow) onVerify() {
	w.verify.Disable()
	w.setVerdict("Checking every record of the recording…", widget.MediumImportance)
	w.work.run(jobPlayerVerify, func() func() {
		err := w.st.VerifyRecording(context.Background(), w.name)
		return func() {
			w.verify.Enable()
			if err != nil {
				w.setVerdict(errorText(err), widget.DangerImportance)
				return
			}
			w.setVerdict(verifiedText(w.info), widget.MediumImportance)
		}
	})
}

// verifiedText is the verdict on an intact recording.
func verifiedText(info core.Recording) string {
	return "The recording is intact: it is the file that was saved (SHA-256 " + info.SHA256 + " in the audit log) and every record opens with the station key."
}

func (w *playerWindow) setVerdict(text string, imp widget.Importance) {
	w.verdict.Importance = imp
	w.verdict.TextStyle.Bold = imp == widget.DangerImportance
	w.verdict.SetText(text)
}

func (w *playerWindow) close() {
	w.pause()
	w.closed = true
	w.mu.Lock()
	w.f.Close()
	w.mu.Unlock()
}
