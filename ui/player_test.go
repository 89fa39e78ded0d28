//go:build linux

package ui

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"adhocstation/agent/agenttest"
	"adhocstation/agent/pipe"
	agentscreen "adhocstation/agent/screen"
	"adhocstation/agent/support"
	"adhocstation/agent/x11desk"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/record"
	"adhocstation/core/wire"
)

// recordedRig is screenRig with the station kept: a remote window on the
// real station, connected through the real pairing service to the real
// agent App whose desktop is an Xvfb display.
func recordedRig(t *testing.T, w, h int) (*screenRig, *core.Station) {
	t.Helper()
	x, prog := agenttest.Display(t, w, h)
	service := agenttest.ServePipe(t, func(net.Conn) (pipe.Caller, error) { return pipe.Caller{User: "anna", Console: true}, nil })
	tray := agenttest.NewTray(nil)
	service.JoinTray(tray)
	st, _, r, watch := remoteTestOpen(t, func(a *support.App) {
		a.UI = service.Hub
		a.OpenDesktop = func() (agentscreen.Desktop, error) { return x11desk.Open(x.Display) }
	})
	r.screen.clipEvery = 0
	return &screenRig{x: x, prog: prog, tray: tray, r: r, tab: r.screen, watch: watch}, st
}

// flatScene is a picture of flat blocks in area, different for each n:
// every tile is sent losslessly, so once it is on screen no frame follows
// until the next scene.
func flatScene(area image.Rectangle, n int) *image.RGBA {
	img := image.NewRGBA(area)
	colours := []color.RGBA{{240, 240, 240, 255}, {30, 90, 160, 255}, {200, 60, 40, 255}, {40, 160, 90, 255}, {250, 200, 0, 255}}
	for y := area.Min.Y; y < area.Max.Y; y++ {
		for x := area.Min.X; x < area.Max.X; x++ {
			band := ((x-area.Min.X)/48 + (y-area.Min.Y)/40 + n) % len(colours)
			img.SetRGBA(x, y, colours[band])
		}
	}
	return img
}

// checkpoint is what the live view showed at a time of the recording.
type checkpoint struct {
	at   time.Duration
	shot *image.RGBA
}

// showScene draws scene on the PC, waits until the station's live view
// shows it, and returns the view's picture with the recording's time.
func showScene(t *testing.T, g *screenRig, rec *record.Recorder, scene *image.RGBA) checkpoint {
	t.Helper()
	if err := g.prog.Draw(scene); err != nil {
		t.Fatal(err)
	}
	g.until(t, "the scene", func(img *image.RGBA) bool {
		if img == nil {
			return false
		}
		w, _ := agenttest.ChannelDiff(img, scene, scene.Rect)
		return w == 0
	})
	return checkpoint{at: rec.Elapsed(), shot: g.tab.view.snapshot()}
}

// A scripted session — screen viewing with three scenes, a command, a
// download, a chat message, control on and the clipboard sent — between the real agent and
// the real station is recorded; the player window, on Fyne's test
// driver, shows at three seek points exactly the pictures the live view
// showed, lists the command, chat and transfer, verifies the recording,
// exports it, and reports a flipped byte.
func TestRecordedSessionPlaysBack(t *testing.T) {
	g, st := recordedRig(t, 640, 480)
	rec, ok := g.r.rs.Recorder().(*record.Recorder)
	if !ok {
		t.Fatal("the remote session is not recorded; recording is on by default")
	}
	if g.r.recBadge.Text != recordingText {
		t.Fatalf("the window says %q about recording", g.r.recBadge.Text)
	}
	g.showTab()
	g.start(t)
	area := image.Rect(32, 32, 608, 448)
	var points []checkpoint
	points = append(points, showScene(t, g, rec, flatScene(area, 0)))

	ctx, cancel := context.WithTimeout(context.Background(), coretest.WaitLimit)
	defer cancel()
	var out bytes.Buffer
	if err := g.r.rs.Run(ctx, wire.ShellPowerShell, "echo recorded-output", func(b []byte) { out.Write(b) }); err != nil {
		t.Fatalf("command: %v (output %q)", err, out.String())
	}
	points = append(points, showScene(t, g, rec, flatScene(area, 1)))

	pcFile := filepath.Join(t.TempDir(), "report.txt")
	if err := os.WriteFile(pcFile, []byte("quarterly report\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "report.txt")
	if err := g.r.rs.Download(ctx, pcFile, local, nil); err != nil {
		t.Fatalf("download: %v", err)
	}
	coretest.Await(t, g.r.chat.ready, "the chat to open")
	g.watch.during(t, jobChatSend, func() {
		test.Type(g.r.chat.entry, "I am copying your report.")
		test.Tap(g.r.chat.send)
	})
	g.act(func() { g.tab.control.SetChecked(true) })
	if err := g.tab.screen.SetClipboard("net use"); err != nil {
		t.Fatal(err)
	}
	points = append(points, showScene(t, g, rec, flatScene(area, 2)))

	g.r.win.Close() // ends the remote session: the recording is sealed
	if err := st.WaitRecordings(ctx); err != nil {
		t.Fatal(err)
	}
	recs, err := st.Recordings(ctx, 0)
	if err != nil || len(recs) != 1 || !recs[0].Saved || !recs[0].Complete {
		t.Fatalf("recordings %+v, %v; want one, sealed", recs, err)
	}
	name := recs[0].Name

	f, info, err := st.OpenRecording(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	pw := newPlayerWindow(test.NewTempApp(t), st, name, f, info)
	t.Cleanup(pw.win.Close)
	watch := watchWork(&pw.work)
	t.Logf("points %v %v %v; length %v, keys %d, frames %d", points[0].at, points[1].at, points[2].at, f.Index.Duration, len(f.Index.Keys), f.Index.Frames)
	// Seek from last to first, so each seek starts from a keyframe.
	for i := len(points) - 1; i >= 0; i-- {
		p := points[i]
		watch.during(t, jobPlayerFrame, func() { pw.line.slider.SetValue(p.at.Seconds()) })
		// The slider steps by a thousandth of the length; seek exactly too.
		watch.during(t, jobPlayerFrame, func() { pw.seek(p.at) })
		got := pw.shown()
		if got == nil || !bytes.Equal(got.Pix, p.shot.Pix) || got.Rect != p.shot.Rect {
			t.Fatalf("at %v the player shows another picture than the live view did", p.at)
		}
	}

	// Play from the start at 4× to the end, where it pauses by itself on
	// the last picture.
	watch.during(t, jobPlayerFrame, func() { pw.seek(0) })
	pw.speedSel.SetSelected("4×")
	test.Tap(pw.playBtn)
	playing := func() bool {
		pw.work.mu.Lock() // results are applied on the loop's goroutine under the test driver
		defer pw.work.mu.Unlock()
		return pw.playing
	}
	for playing() {
		watch.wait(t, jobPlayerFrame)
	}
	if got := pw.shown(); got == nil || !bytes.Equal(got.Pix, points[2].shot.Pix) || pw.playBtn.Text != "Play" {
		t.Fatalf("after playing to the end: the last picture shown %v, button %q", got != nil && bytes.Equal(got.Pix, points[2].shot.Pix), pw.playBtn.Text)
	}

	var lines []string
	for _, e := range pw.events {
		lines = append(lines, e.text)
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{"Command (powershell): echo recorded-output", "recorded-output", "Chat, Tom: I am copying your report.",
		"Downloaded " + pcFile + " to " + local, "SHA-256 ", "Control on", "Screen viewing on", "Clipboard sent to the PC: net use"} {
		if !strings.Contains(text, want) {
			t.Errorf("the player's text lacks %q:\n%s", want, text)
		}
	}
	if len(pw.line.marks) < 3 {
		t.Errorf("%d marks on the timeline; want the command, the transfer and control", len(pw.line.marks))
	}

	watch.during(t, jobPlayerVerify, func() { test.Tap(pw.verify) })
	if !strings.HasPrefix(pw.verdict.Text, "The recording is intact") {
		t.Fatalf("Verify integrity of an intact recording says %q", pw.verdict.Text)
	}
	dir := t.TempDir()
	watch.during(t, jobPlayerExport, func() { pw.exportTo(dir) })
	outDir := filepath.Join(dir, strings.TrimSuffix(name, record.Ext))
	log, err := os.ReadFile(filepath.Join(outDir, "log.txt"))
	if err != nil || !strings.Contains(string(log), "Verify integrity: passed") || !strings.Contains(string(log), "echo recorded-output") {
		t.Fatalf("the exported log (%v):\n%s", err, log)
	}
	pngs, _ := filepath.Glob(filepath.Join(outDir, "*.png"))
	if _, err := os.Stat(filepath.Join(outDir, name)); err != nil || len(pngs) < 3 {
		t.Fatalf("export: copy %v, %d pictures", err, len(pngs))
	}

	path := filepath.Join(st.DataDir(), core.RecordingsFolder, name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/3] ^= 0x08
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	watch.during(t, jobPlayerVerify, func() { test.Tap(pw.verify) })
	if !strings.Contains(pw.verdict.Text, "changed after it was saved") {
		t.Fatalf("Verify integrity after a flipped byte says %q", pw.verdict.Text)
	}
	// The Activity page's Verify integrity checks the recordings too.
	act := newActivityScreen(st, testWindow(t))
	watchWork(&act.work).during(t, jobVerify, func() { test.Tap(act.verify) })
	if !strings.HasPrefix(act.verdict.Text, "The audit log is intact, but 1 recording failed the check.") {
		t.Fatalf("the Activity page's verdict: %q", act.verdict.Text)
	}
}

// The Activity page offers Play recording for an entry about a recording,
// and only then, and opens it in a player window.
func TestActivityOpensRecording(t *testing.T) {
	g, st := recordedRig(t, 320, 240)
	g.showTab()
	g.start(t)
	g.r.win.Close()
	if err := st.WaitRecordings(t.Context()); err != nil {
		t.Fatal(err)
	}
	act := newActivityScreen(st, testWindow(t))
	saved := -1
	for i, e := range act.entries {
		if e.Event == core.AuditRecordingSaved {
			saved = i
		}
	}
	if saved < 0 {
		t.Fatalf("no %q entry on the Activity page", core.AuditRecordingSaved)
	}
	act.list.Select(saved + 1) // an older entry, about something else
	if !act.play.Disabled() && !strings.HasPrefix(act.entries[saved+1].Event, "recording") {
		t.Fatalf("Play recording is offered for %q", act.entries[saved+1].Event)
	}
	act.list.Select(saved)
	if act.play.Disabled() {
		t.Fatal("Play recording is not offered for the saved recording")
	}
	test.Tap(act.play)
	if act.player == nil {
		t.Fatal("no player window opened")
	}
	t.Cleanup(act.player.win.Close)
	if !strings.HasPrefix(act.player.win.Title(), "Recording of session #") || act.player.f.Meta.Computer != g.r.rs.Computer {
		t.Fatalf("the player window %q plays %+v", act.player.win.Title(), act.player.f.Meta)
	}
}
