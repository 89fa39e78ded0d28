package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/pairing"
	"adhocstation/core/wire"
)

// remoteTestPC is the PC's side for UI tests: the real agent code serving
// the live channel, with only the two system calls it makes replaced.
type remoteTestPC struct {
	support.System // the calls the channel never makes stay nil
	password       string
	looks          int64
}

func (p *remoteTestPC) CheckPassword(name, password string) error {
	if name != support.AccountName || password != p.password {
		return support.ErrWrongPassword
	}
	return nil
}

func (p *remoteTestPC) SystemInfo() (wire.SystemInfo, error) {
	p.looks++
	return wire.SystemInfo{ComputerName: "DESKTOP-7QK2", Edition: "Windows 11 Pro", Build: "10.0.22631.4460",
		UptimeSec: 26*3600 + 5*60 + 60*p.looks, CPU: "Intel(R) Core(TM) i5-1135G7 @ 2.40GHz", CPUs: 8,
		MemoryTotal: 16 << 30, MemoryFree: 9 << 30, Disks: []wire.Disk{{Name: `C:\`, Total: 475 << 30, Free: 212 << 30}},
		Users: []string{"anna"}, Addresses: []wire.Interface{{Name: "Ethernet", Addresses: []string{"192.0.2.44/24"}}}}, nil
}

type remoteTestTray struct{ support.UI }

func (remoteTestTray) Tell(support.Message) {}

// remoteTestConnected pairs a PC with st and holds its live channel
// through the real pairing service and agent client.
func remoteTestConnected(t *testing.T, st *core.Station, prep core.Prepared) {
	t.Helper()
	srv, err := pairing.Start(t.Context(), st, pairing.Options{ListenAddr: "127.0.0.1:0", AgentExe: []byte("MZ")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	paired := pairPC(t, st, prep)
	c, err := support.NewClient(srv.URL(), srv.Pins())
	if err != nil {
		t.Fatal(err)
	}
	ys, _, err := c.OpenChannel(t.Context(), paired.AgentKey, support.ChannelTiming{})
	if err != nil || ys == nil {
		t.Fatalf("live channel: %v", err)
	}
	t.Cleanup(func() { ys.Close() })
	app := &support.App{Sys: &remoteTestPC{password: coretest.Password}, UI: remoteTestTray{}}
	go app.ServeChannel(ys, "Tom")
}

// Connect is enabled for an online active PC; a wrong password says how
// many tries are left; the right one opens a remote session window titled
// with the PC's name whose System tab shows the PC and refreshes on
// demand; the window fits a 1280×720 screen and asks for at most 800×600.
func TestRemoteSessionWindow(t *testing.T) {
	st, _, s, sub := pagesTestComputers(t)
	applied := make(chan string, 8)
	s.work.applied = func(job string) { applied <- job }
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	id := prep.Session.ID
	deliverUntil(t, sub, s.onEvent, core.EventPrepared)
	s.list.Select(0)
	if !s.connect.Disabled() {
		t.Fatal("Connect is enabled for a session that is not paired")
	}
	remoteTestConnected(t, st, prep)
	deliverUntil(t, sub, s.onEvent, core.EventPaired)
	if s.connect.Disabled() {
		t.Fatal("Connect is disabled for an online active PC")
	}

	s.connectTo(id, "not the password")
	remoteTestWait(t, applied, jobConnect)
	if !s.status.Visible() || !strings.Contains(s.status.Text, "4 tries left") {
		t.Fatalf("wrong password: status %q (visible %v); want the tries left", s.status.Text, s.status.Visible())
	}
	s.connectTo(id, coretest.Password)
	remoteTestWait(t, applied, jobConnect)
	remoteTestWait(t, applied, jobSystem)
	if len(s.remotes) != 1 || s.status.Visible() {
		t.Fatalf("%d remote windows, status %q; want one and no refusal", len(s.remotes), s.status.Text)
	}
	r := s.remotes[0]
	if title := r.win.Title(); !strings.HasPrefix(title, "DESKTOP-7QK2") {
		t.Errorf("window title %q does not name the PC", title)
	}
	want := map[string]string{"Computer name": "DESKTOP-7QK2", "Windows": "Windows 11 Pro", "Build": "10.0.22631.4460",
		"Uptime": "1 day 2 h 06 min", "CPU": "Intel(R) Core(TM) i5-1135G7 @ 2.40GHz (8 logical processors)",
		"Memory": "9.0 GB free of 16.0 GB", "Disks": `C:\ 212.0 GB free of 475.0 GB`, "Signed-in users": "anna",
		"Addresses": "Ethernet: 192.0.2.44/24"}
	for name, text := range want {
		if got := r.fields[name].Text; got != text {
			t.Errorf("%s shows %q, want %q", name, got, text)
		}
	}
	test.Tap(r.refresh)
	remoteTestWait(t, applied, jobSystem)
	if got := r.fields["Uptime"].Text; got != "1 day 2 h 07 min" {
		t.Errorf("after Refresh the uptime shows %q, want the fresh 1 day 2 h 07 min", got)
	}

	r.win.Resize(fyne.NewSize(760, 560))
	test.AssertRendersToImage(t, "remote_system.png", r.win.Canvas())

	for _, size := range []fyne.Size{fitTestScreen, fitTestMax} {
		r.win.Resize(size)
		if min := r.win.Content().MinSize(); min.Width > fitTestMax.Width || min.Height > fitTestMax.Height {
			t.Errorf("the remote window asks for at least %v, more than %v", min, fitTestMax)
		}
		if !fitTestOnScreen(r.win.Canvas(), r.refresh) {
			t.Errorf("at %v Refresh is not on screen", size)
		}
	}
	r.win.Close()
	if len(s.remotes) != 0 {
		t.Error("a closed remote window is still listed")
	}
}

func remoteTestWait(t *testing.T, applied <-chan string, job string) {
	t.Helper()
	deadline := time.After(coretest.WaitLimit)
	for {
		select {
		case got := <-applied:
			if got == job {
				return
			}
		case <-deadline:
			t.Fatalf("waited %v for %q to be applied", coretest.WaitLimit, job)
		}
	}
}
