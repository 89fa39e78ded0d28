//go:build !windows

package ui

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"adhocstation/core/coretest"
)

// waitOutput waits for pieces of output until the tab shows want.
func waitOutput(t *testing.T, c *commandTab, watch *workWatch, want string) {
	t.Helper()
	// Read the output only right after a piece is applied: Fyne's test
	// driver applies the next on the command's goroutine.
	deadline := time.Now().Add(coretest.WaitLimit)
	for {
		watch.wait(t, jobCommandOutput)
		if strings.Contains(c.output.Text(), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Command tab never showed %q; it shows %q", want, c.output.Text())
		}
	}
}

// The Command tab runs a line on the PC and shows its output while it
// runs; Stop kills a command that would not end and says so; the up arrow
// brings back the lines run; a shell the PC lacks gets a sentence.
func TestRemoteCommandTab(t *testing.T) {
	_, _, r, watch := remoteTestOpen(t)
	c := r.command
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
	waitOutput(t, c, watch, "second now\n")
	watch.wait(t, jobCommand)
	if c.run.Disabled() || !c.stop.Disabled() || c.status.Visible() {
		t.Fatalf("after the command: Run disabled %v, Stop disabled %v, status %q", c.run.Disabled(), c.stop.Disabled(), c.status.Text)
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

	for _, size := range []fyne.Size{fitTestScreen, fitTestMax} {
		r.win.Resize(size)
		if min := r.win.Content().MinSize(); min.Width > fitTestMax.Width || min.Height > fitTestMax.Height {
			t.Errorf("the remote window asks for at least %v, more than %v", min, fitTestMax)
		}
	}
	r.win.Close()
}
