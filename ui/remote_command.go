package ui

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core/remote"
	"adhocstation/core/wire"
)

// The Command tab: a command line run on the PC as the hidden account in
// PowerShell or cmd, its output shown as it comes, Stop to kill it, and the
// up and down arrows walking back through the lines already run.

// Job names of the Command tab.
const (
	jobCommand       = "command"        // the command ended
	jobCommandOutput = "command output" // a piece of output is on screen
)

// maxCommandOutput is how much output the tab keeps (the newest); more
// would make every update slow.
const maxCommandOutput = 256 << 10

var shellNames = map[string]string{"PowerShell": wire.ShellPowerShell, "cmd": wire.ShellCmd}

type commandTab struct {
	rs   *remote.RemoteSession
	work *background

	shell  *widget.Select
	entry  *historyEntry
	run    *widget.Button
	stop   *widget.Button
	output *widget.TextGrid
	scroll *container.Scroll
	status *widget.Label
	text   strings.Builder
	cancel context.CancelFunc // of the running command
}

func newCommandTab(rs *remote.RemoteSession, work *background) (*commandTab, fyne.CanvasObject) {
	c := &commandTab{rs: rs, work: work}
	c.shell = widget.NewSelect([]string{"PowerShell", "cmd"}, nil)
	c.shell.SetSelected("PowerShell")
	c.entry = newHistoryEntry(c.onRun)
	c.entry.SetPlaceHolder("A command to run on the PC as the support account")
	c.run = &widget.Button{Text: "Run", Icon: theme.MediaPlayIcon(), Importance: widget.HighImportance, OnTapped: func() { c.onRun(c.entry.Text) }}
	c.stop = &widget.Button{Text: "Stop", Icon: theme.MediaStopIcon(), OnTapped: c.onStop}
	c.stop.Disable()
	c.output = widget.NewTextGrid()
	c.scroll = container.NewScroll(c.output)
	c.status = &widget.Label{Wrapping: fyne.TextWrapWord}
	c.status.Hide()
	bar := container.NewBorder(nil, nil, c.shell, container.NewHBox(c.run, c.stop), c.entry)
	top := container.NewVBox(bar, c.status)
	return c, container.NewBorder(top, nil, nil, nil, c.scroll)
}

// onRun starts the line, unless one is running or it is blank.
func (c *commandTab) onRun(line string) {
	line = strings.TrimSpace(line)
	if line == "" || c.cancel != nil {
		return
	}
	c.entry.remember(line)
	c.entry.SetText("")
	c.append("> " + line + "\n")
	c.status.Hide()
	c.run.Disable()
	c.stop.Enable()
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	rs, shell := c.rs, shellNames[c.shell.Selected]
	c.work.run(jobCommand, func() func() {
		err := rs.Run(ctx, shell, line, func(b []byte) {
			s := string(b)
			c.work.apply(jobCommandOutput, func() { c.append(s) })
		})
		return func() {
			cancel()
			c.cancel = nil
			c.run.Enable()
			c.stop.Disable()
			var exit *remote.CommandExitError
			switch {
			case err == nil:
				c.status.Hide()
				return
			case errors.As(err, &exit): // the command's own result, not a failure here
				c.status.Importance = widget.MediumImportance
				c.status.SetText(exit.Error())
			default:
				c.status.Importance = widget.DangerImportance
				c.status.SetText(errorText(err))
			}
			c.status.Show()
		}
	})
}

// onStop asks the PC to kill the running command; the tab says so once the
// PC confirms.
func (c *commandTab) onStop() {
	if c.cancel != nil {
		c.stop.Disable()
		c.cancel()
	}
}

// append adds output, keeping the newest maxCommandOutput bytes, and
// follows it to the bottom.
func (c *commandTab) append(s string) {
	c.text.WriteString(s)
	if c.text.Len() > maxCommandOutput {
		kept := c.text.String()[c.text.Len()-maxCommandOutput/2:]
		c.text.Reset()
		c.text.WriteString(kept)
	}
	c.output.SetText(c.text.String())
	c.scroll.ScrollToBottom()
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
