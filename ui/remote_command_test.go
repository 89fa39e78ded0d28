//go:build !windows

package ui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core/coretest"
)

// shownText is what the Command tab shows, read as the window's goroutine
// would: Fyne's test driver redraws on a timer's goroutine.
func shownText(c *commandTab) string {
	var text string
	c.work.apply("read", func() { text = c.output.Text() })
	return text
}

// waitOutput waits for redraws until the tab shows want.
func waitOutput(t *testing.T, c *commandTab, watch *workWatch, want string) {
	t.Helper()
	deadline := time.Now().Add(coretest.WaitLimit)
	for {
		watch.wait(t, jobCommandOutput)
		if strings.Contains(shownText(c), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Command tab never showed %q; it shows %q", want, shownText(c))
		}
	}
}

// The Command tab runs a line on the PC and shows its output while it
// runs; Stop kills a command that would not end and says so; the up arrow
// brings back the lines run; a shell the PC lacks gets a sentence.
func TestRemoteCommandTab(t *testing.T) {
	_, _, r, watch := remoteTestOpen(t)
	c := r.command
	r.tabs.SelectIndex(1)
	if r.win.Canvas().Focused() != c.entry {
		t.Fatalf("with the Command tab opened the typing goes to %v, not the command line", r.win.Canvas().Focused())
	}
	gate := filepath.Join(t.TempDir(), "go-on")
	if err := syscall.Mkfifo(gate, 0o600); err != nil {
		t.Fatal(err)
	}
	first := "echo first; read x < " + gate + "; echo second $x"
	test.Type(c.entry, first)
	test.Tap(c.run)
	waitOutput(t, c, watch, "first\n")
	if !c.run.Disabled() || c.stop.Disabled() {
		t.Fatal("while a command runs Run should wait and Stop be enabled")
	}
	go func() { _ = os.WriteFile(gate, []byte("now\n"), 0) }()
	watch.wait(t, jobCommand)
	if c.run.Disabled() || !c.stop.Disabled() || c.status.Visible() {
		t.Fatalf("after the command: Run disabled %v, Stop disabled %v, status %q", c.run.Disabled(), c.stop.Disabled(), c.status.Text)
	}
	// The end shows all the output, and that the command succeeded.
	if got := shownText(c); !strings.HasSuffix(got, "first\nsecond now\n[finished, exit code 0]\n") {
		t.Fatalf("after a command that succeeded the tab shows %q", got)
	}

	test.Type(c.entry, "echo waiting; read x < "+gate)
	c.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Enter runs it too
	waitOutput(t, c, watch, "waiting\n")
	test.Tap(c.stop)
	watch.wait(t, jobCommand)
	if !c.status.Visible() || !strings.Contains(c.status.Text, "The command was stopped: its process on the PC was ended.") {
		t.Fatalf("after Stop the status says %q (visible %v)", c.status.Text, c.status.Visible())
	}

	c.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp})
	if c.entry.Text != "echo waiting; read x < "+gate {
		t.Fatalf("the up arrow brings back %q, want the last line", c.entry.Text)
	}
	c.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp})
	if c.entry.Text != first {
		t.Fatalf("the up arrow twice brings back %q, want the first line", c.entry.Text)
	}
	c.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	c.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	if c.entry.Text != "" {
		t.Fatalf("down past the newest line leaves %q, want an empty line", c.entry.Text)
	}

	c.entry.SetText("exit 4")
	watch.during(t, jobCommand, func() { test.Tap(c.run) })
	if c.status.Text != "The command ended with exit code 4." {
		t.Errorf("a failing command's status %q", c.status.Text)
	}
	if got := shownText(c); !strings.HasSuffix(got, "[stopped]\n> exit 4\n[finished, exit code 4]\n") {
		t.Errorf("after a stopped command and exit 4 the tab ends with %q", got[max(0, len(got)-80):])
	}
	if r.win.Canvas().Focused() != c.entry {
		t.Errorf("after Run was tapped the typing goes to %v, not the command line", r.win.Canvas().Focused())
	}

	for _, size := range []fyne.Size{fitTestScreen, fitTestMax} {
		r.win.Resize(size)
		if min := r.win.Content().MinSize(); min.Width > fitTestMax.Width || min.Height > fitTestMax.Height {
			t.Errorf("the remote window asks for at least %v, more than %v", min, fitTestMax)
		}
	}
	r.win.Close()
}

// rowText is a TextGrid row as text.
func rowText(r widget.TextGridRow) string {
	var b strings.Builder
	for _, c := range r.Cells {
		b.WriteRune(c.Rune)
	}
	return b.String()
}

// A megabyte of output (yes | head -c 5000000 froze the station for
// minutes) through the real command path: the tab keeps the newest rows
// within its limits, redraws at most every outputRedraw, says older output
// is only in Save output…, and Save output… has every byte. The spool
// leaves nothing in the temporary folder.
func TestRemoteCommandFlood(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	_, _, r, watch := remoteTestOpen(t)
	c := r.command
	var redraws []time.Time // under the background's lock
	told := r.work.applied
	r.work.applied = func(job string) {
		if job == jobCommandOutput {
			redraws = append(redraws, time.Now())
		}
		told(job)
	}
	r.tabs.SelectIndex(1)
	const line = "yes | head -c 1000000"
	c.entry.SetText(line)
	watch.during(t, jobCommand, func() { test.Tap(c.run) })
	r.work.apply("check", func() {
		rows := c.output.Rows
		if len(rows) > maxOutputRows+1 {
			t.Errorf("the tab holds %d rows; at most %d expected", len(rows), maxOutputRows+1)
		}
		if n := len(rows); n < 3 || rowText(rows[n-3]) != "y" || rowText(rows[n-2]) != "[finished, exit code 0]" || rowText(rows[n-1]) != "" {
			t.Errorf("the tab does not end with the newest output and the end line: %q", rows[max(0, len(rows)-3):])
		}
		// The end is in view: the grid followed the output down.
		if y := c.output.PositionForCursorLocation(len(rows)-2, 0).Y; y < 0 || y >= c.output.Size().Height {
			t.Errorf("the end line is at y %v, outside the grid's %v", y, c.output.Size())
		}
		if !c.older.Visible() {
			t.Error("the tab does not say that older output is only in Save output…")
		}
		if n := len(redraws); n > 1 {
			span := redraws[n-1].Sub(redraws[0])
			if most := int((span+time.Second)/outputRedraw) + 1; n > most {
				t.Errorf("%d redraws in %v; at most %d expected (one every %v)", n, span, most, outputRedraw)
			}
		}
	})
	var saved bytes.Buffer
	if _, err := c.out.saveTo(&saved); err != nil {
		t.Fatal(err)
	}
	want := "> " + line + "\n" + strings.Repeat("y\n", 500000) + "[finished, exit code 0]\n"
	if saved.String() != want {
		t.Errorf("Save output… wrote %d bytes, not the %d of the whole transcript", saved.Len(), len(want))
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "adhoc-command-output-*")); len(left) != 0 {
		t.Errorf("the spool is in the temporary folder while the window is open: %q", left)
	}
	r.win.Close()
}

// The output kept for the screen: the newest rows within maxOutputRows and
// maxOutputCells, long lines continued in the next row, tabs to the next
// stop, Windows line ends; one redraw scheduled at a time.
func TestCommandOutputKeepsTheNewest(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	var o commandOutput
	defer o.close()
	if _, ok := o.write([]byte("a\tb\r\n")); !ok {
		t.Fatal("the first output scheduled no redraw")
	}
	if _, ok := o.write([]byte("c")); ok {
		t.Fatal("a second redraw was scheduled before the first was done")
	}
	rows, dropped := o.snapshot()
	if len(rows) != 2 || rowText(rows[0]) != "a       b" || rowText(rows[1]) != "c" || dropped {
		t.Fatalf("rows %q, dropped %v", rows, dropped)
	}
	if _, ok := o.write([]byte("\n")); !ok {
		t.Fatal("no redraw scheduled after the last was done")
	}
	for i := range 3 * maxOutputRows {
		o.write([]byte(fmt.Sprintf("line %d\n", i)))
	}
	rows, dropped = o.snapshot()
	if len(rows) != maxOutputRows+1 || rowText(rows[maxOutputRows-1]) != fmt.Sprintf("line %d", 3*maxOutputRows-1) || !dropped {
		t.Fatalf("%d rows ending %q, dropped %v", len(rows), rows[len(rows)-2:], dropped)
	}
	// One piece of many lines: only its newest rows are kept, and the
	// row being written, the first of the lines let go, goes with them.
	o.write([]byte("partial"))
	o.write([]byte(strings.Repeat("q\n", 3*maxOutputRows) + "tail"))
	rows, _ = o.snapshot()
	if len(rows) != maxOutputRows+1 || rowText(rows[0]) != "q" || rowText(rows[maxOutputRows]) != "tail" {
		t.Fatalf("after a piece of many lines %d rows, from %q to %q", len(rows), rows[0], rows[len(rows)-1])
	}
	o.write([]byte("\n"))
	o.write([]byte(strings.Repeat("x", 2*maxOutputWidth+5)))
	rows, _ = o.snapshot()
	if n := len(rows); rowText(rows[n-1]) != "xxxxx" || len(rows[n-2].Cells) != maxOutputWidth {
		t.Fatalf("a long line ends in rows of %d and %d cells", len(rows[n-2].Cells), len(rows[n-1].Cells))
	}
	for range maxOutputCells / maxOutputWidth * 2 {
		o.write([]byte(strings.Repeat("z", maxOutputWidth-1) + "\n"))
	}
	rows, _ = o.snapshot()
	cells := 0
	for _, r := range rows {
		cells += len(r.Cells)
	}
	if cells > maxOutputCells {
		t.Fatalf("%d cells kept; at most %d expected", cells, maxOutputCells)
	}
}
