package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core/remote"
	"adhocstation/core/wire"
)

// The Command tab: a command line run on the PC as the hidden account in
// PowerShell or cmd, its output shown as it comes (the newest part; Save
// output… keeps all of it), Stop to kill it, and the up and down arrows
// walking back through the lines already run.

// Job names of the Command tab.
const (
	jobCommand       = "command"        // the command ended
	jobCommandOutput = "command output" // output is redrawn
	jobCommandSave   = "command save"   // Save output… ended
)

var shellNames = map[string]string{"PowerShell": wire.ShellPowerShell, "cmd": wire.ShellCmd}

type commandTab struct {
	rs   *remote.RemoteSession
	win  fyne.Window
	work *background

	shell  *widget.Select
	entry  *historyEntry
	run    *widget.Button
	stop   *widget.Button
	output *widget.TextGrid // scrolls itself, so only the rows in view are laid out
	status *widget.Label
	older  *widget.Label // says the oldest output is only in Save output…
	save   *widget.Button
	out    commandOutput
	cancel context.CancelFunc // of the running command
}

func newCommandTab(rs *remote.RemoteSession, win fyne.Window, work *background) (*commandTab, fyne.CanvasObject) {
	c := &commandTab{rs: rs, win: win, work: work}
	c.shell = widget.NewSelect([]string{"PowerShell", "cmd"}, nil)
	c.shell.SetSelected("PowerShell")
	c.entry = newHistoryEntry(c.onRun)
	c.entry.SetPlaceHolder("A command to run on the PC as the support account")
	c.run = &widget.Button{Text: "Run", Icon: theme.MediaPlayIcon(), Importance: widget.HighImportance, OnTapped: func() { c.onRun(c.entry.Text) }}
	c.stop = &widget.Button{Text: "Stop", Icon: theme.MediaStopIcon(), OnTapped: c.onStop}
	c.stop.Disable()
	c.output = widget.NewTextGrid()
	c.output.Scroll = fyne.ScrollBoth
	c.status = &widget.Label{Wrapping: fyne.TextWrapWord}
	c.status.Hide()
	c.older = &widget.Label{Text: "Older output is not shown here; Save output… keeps all of it.",
		Wrapping: fyne.TextWrapWord, Importance: widget.LowImportance}
	c.older.Hide()
	c.save = &widget.Button{Text: "Save output…", Icon: theme.DocumentSaveIcon(), OnTapped: c.onSave}
	c.save.Disable()
	bar := container.NewBorder(nil, nil, c.shell, container.NewHBox(c.run, c.stop), c.entry)
	top := container.NewVBox(bar, c.status)
	bottom := container.NewBorder(nil, nil, nil, c.save, c.older)
	return c, container.NewBorder(top, bottom, nil, nil, c.output)
}

// shown puts the typing in the command line when the tab is opened.
func (c *commandTab) shown() { c.win.Canvas().Focus(c.entry) }

// close lets the spooled output go with the window.
func (c *commandTab) close() { c.out.close() }

// onRun starts the line, unless one is running or it is blank.
func (c *commandTab) onRun(line string) {
	line = strings.TrimSpace(line)
	if line == "" || c.cancel != nil {
		return
	}
	c.entry.remember(line)
	c.entry.SetText("")
	c.win.Canvas().Focus(c.entry) // Run tapped: the next line is typed here too
	c.append("> " + line + "\n")
	c.status.Hide()
	c.run.Disable()
	c.stop.Enable()
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	rs, shell := c.rs, shellNames[c.shell.Selected]
	c.work.run(jobCommand, func() func() {
		err := rs.Run(ctx, shell, line, c.received)
		return func() {
			cancel()
			c.cancel = nil
			c.run.Enable()
			c.stop.Disable()
			c.ended(err)
		}
	})
}

// ended writes how the command ended under its output and, unless it
// simply finished, says so above it too.
func (c *commandTab) ended(err error) {
	var exit *remote.CommandExitError
	switch {
	case err == nil:
		c.append("[finished, exit code 0]\n")
		c.status.Hide()
		return
	case errors.As(err, &exit): // the command's own result, not a failure here
		c.append(fmt.Sprintf("[finished, exit code %d]\n", exit.Code))
		c.status.Importance = widget.MediumImportance
		c.status.SetText(exit.Error())
	case errors.Is(err, remote.ErrCommandStopped):
		c.append("[stopped]\n")
		c.status.Importance = widget.MediumImportance
		c.status.SetText(errorText(err))
	default:
		c.append("[did not finish]\n")
		c.status.Importance = widget.DangerImportance
		c.status.SetText(errorText(err))
	}
	c.status.Show()
}

// onStop asks the PC to kill the running command; the tab says so once the
// PC confirms.
func (c *commandTab) onStop() {
	if c.cancel != nil {
		c.stop.Disable()
		c.cancel()
	}
}

// received takes a piece of output on the command's goroutine; the screen
// follows at most every outputRedraw.
func (c *commandTab) received(b []byte) {
	if after, ok := c.out.write(b); ok {
		time.AfterFunc(after, func() { c.work.apply(jobCommandOutput, c.redraw) })
	}
}

// append adds the tab's own lines (the command run, how it ended) and
// shows them with the output before them at once.
func (c *commandTab) append(s string) {
	c.out.write([]byte(s))
	c.redraw()
}

// redraw shows the newest output and follows it to the bottom.
func (c *commandTab) redraw() {
	rows, dropped := c.out.snapshot()
	if rows == nil {
		return
	}
	c.output.Rows = rows
	c.output.Refresh() // makes the grid's scroller if the tab was never drawn: ScrollToBottom needs it
	// The scroller measures its content's size as last laid out: the
	// first call lays out the new rows, the second reaches the end.
	c.output.ScrollToBottom()
	c.output.ScrollToBottom()
	c.older.Hidden = !dropped
	c.older.Refresh()
	c.save.Enable()
}

// onSave copies the whole transcript, also what the screen let go, to a
// file the technician picks.
func (c *commandTab) onSave() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		c.work.run(jobCommandSave, func() func() {
			n, err := c.out.saveTo(w)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			return func() {
				if err != nil {
					c.status.Importance = widget.DangerImportance
					c.status.SetText("The output could not be saved: " + err.Error() + ". Choose another folder and try again.")
				} else {
					c.status.Importance = widget.MediumImportance
					c.status.SetText(fmt.Sprintf("Saved the output (%s) to %s.", sizeText(n), w.URI().Path()))
				}
				c.status.Show()
			}
		})
	}, c.win)
	d.SetFileName(c.rs.Computer + " command output.txt")
	d.Show()
}

// historyEntry is a one-line entry whose up and down arrows bring back the
// lines already run; Enter runs the line.
type historyEntry struct {
	widget.Entry
	lines []string
	at    int // index into lines while walking; len(lines) is the new line
}

func newHistoryEntry(submit func(string)) *historyEntry {
	e := &historyEntry{}
	e.ExtendBaseWidget(e)
	e.OnSubmitted = submit
	return e
}

// remember adds a line run, skipping a repeat of the last one.
func (e *historyEntry) remember(line string) {
	if n := len(e.lines); n == 0 || e.lines[n-1] != line {
		e.lines = append(e.lines, line)
	}
	e.at = len(e.lines)
}

func (e *historyEntry) TypedKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyUp:
		if e.at > 0 {
			e.at--
			e.show(e.lines[e.at])
		}
	case fyne.KeyDown:
		if e.at < len(e.lines)-1 {
			e.at++
			e.show(e.lines[e.at])
		} else {
			e.at = len(e.lines)
			e.show("")
		}
	default:
		e.Entry.TypedKey(k)
	}
}

func (e *historyEntry) show(line string) {
	e.SetText(line)
	e.CursorColumn = len([]rune(line))
	e.Refresh()
}
