//go:build linux

package support_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

// TestRemoteSessionCloseLeavesNoGoroutines: a remote session that used
// every kind of stream (System, a command still running, the chat, a
// listing, a download and an upload) and is then closed leaves no
// goroutine behind, on the station or on the PC (both run in this
// process): the count returns to what it was before connecting.
func TestRemoteSessionCloseLeavesNoGoroutines(t *testing.T) {
	r := waitingRig(t)
	base := settledGoroutines()

	ctx := context.Background()
	rs, err := r.st.Connect(ctx, r.prep.Session.ID, coretest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.System(ctx); err != nil {
		t.Fatal(err)
	}
	chat, err := rs.Chat(ctx, func(wire.ChatMessage) {})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chat.Send("hello"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(src, []byte("some bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	pcDir := t.TempDir()
	if err := rs.Upload(ctx, src, pcDir, "b.txt", false, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rs.List(ctx, pcDir); err != nil {
		t.Fatal(err)
	}
	if err := rs.Download(ctx, filepath.Join(pcDir, "b.txt"), filepath.Join(dir, "c.txt"), nil); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{}, 1)
	ran := make(chan error, 1)
	go func() {
		ran <- rs.Run(ctx, wire.ShellPowerShell, "echo go; sleep 300", func([]byte) {
			select {
			case started <- struct{}{}:
			default:
			}
		})
	}()
	coretest.Receive(t, started, "the command's first output")
	rs.Close()
	<-ran

	waitGoroutines(t, base, "the remote session closed")
}

// settledGoroutines is the goroutine count once it stopped falling (the
// rig's start-up goroutines finished).
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return m
		}
		n = m
	}
	return n
}

// TestScreenViewsLeaveNoGoroutines: screen views ended by the station
// closing the stream and by the user's Stop viewing in the tray, served
// in this process and relayed to the screen helper, leave no goroutine
// behind (the relayed helper parks a fresh connection, as before).
func TestScreenViewsLeaveNoGoroutines(t *testing.T) {
	for name, relayed := range map[string]bool{"local": false, "relayed": true} {
		t.Run(name, func(t *testing.T) {
			pc := newScreenPCWith(t, 320, 240, relayed)
			base := settledGoroutines()
			for _, end := range []string{"station closes", "tray stops"} {
				v := pc.open(wire.ScreenOpen{Control: true})
				v.until("the first frame", func() bool { return v.frames > 0 })
				coretest.Receive(t, pc.tray.Views, "the tray to say who is viewing")
				if end == "station closes" {
					v.s.Close()
				} else {
					pc.tray.StopViewing()
					v.until("ScreenStopped", func() bool { return v.stop != nil })
					v.s.Close()
				}
				coretest.Receive(t, pc.tray.Views, "the tray to say the viewing stopped")
				waitGoroutines(t, base, end)
			}
		})
	}
}

// waitGoroutines waits until no more than base goroutines run.
func waitGoroutines(t *testing.T, base int, after string) {
	t.Helper()
	deadline := time.Now().Add(coretest.WaitLimit)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			var b strings.Builder
			_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
			t.Fatalf("%d goroutines %v after %s, %d before:\n%s", runtime.NumGoroutine(), coretest.WaitLimit, after, base, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
