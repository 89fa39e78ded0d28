package ui

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/hashicorp/yamux"

	"adhocstation/agent/agenttest"
	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/pairing"
	"adhocstation/core/wire"
	"adhocstation/hub/hubtest"
)

// remoteTestPC is the PC's side for UI tests: the real agent code serving
// the live channel, with only the two system calls it makes replaced.
type remoteTestPC struct {
	support.System // the calls the channel never makes stay nil
	password       string
	looks          int64
}

func (p *remoteTestPC) CheckPassword(name, password string) (support.Logon, error) {
	if name != support.AccountName || password != p.password {
		return nil, support.ErrWrongPassword
	}
	return remoteTestLogon{}, nil
}

// remoteTestLogon runs both shells' commands with this platform's sh.
type remoteTestLogon struct{}

func (remoteTestLogon) Close() error { return nil }
func (remoteTestLogon) Command(shell, line string) (*exec.Cmd, error) {
	if shell != wire.ShellPowerShell && shell != wire.ShellCmd {
		return nil, fmt.Errorf("this PC does not know the shell %q", shell)
	}
	return exec.Command("sh", "-c", line), nil
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
// Each setup changes the App before it serves (e.g. gives it a desktop).
func remoteTestConnected(t testing.TB, st *core.Station, prep core.Prepared, setup ...func(*support.App)) {
	t.Helper()
	remoteTestServe(t, st, prep, remoteTestTray{}, setup...)
}

// remoteTestServe is remoteTestConnected with ui as the service's UI.
func remoteTestServe(t testing.TB, st *core.Station, prep core.Prepared, ui support.UI, setup ...func(*support.App)) {
	t.Helper()
	ys := remoteTestChannel(t, st, prep)
	app := &support.App{Sys: &remoteTestPC{password: coretest.Password}, UI: ui}
	for _, f := range setup {
		f(app)
	}
	go app.ServeChannel(ys, "Tom")
}

// Connect is enabled for an online active PC; a wrong password says how
// many tries are left; the right one opens a remote session window titled
// with the PC's name whose System tab shows the PC and refreshes on
// demand; the window fits a 1280×720 screen and asks for at most 800×600.
func TestRemoteSessionWindow(t *testing.T) {
	st, clock, s, sub := pagesTestComputers(t)
	watch := watchWork(&s.work)
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
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

	// At 800×600 the dialog shows the password's placeholder whole.
	s.win.Resize(fyne.NewSize(800, 600))
	test.Tap(s.connect)
	dlg, field := remoteTestDialog(t, s)
	d := fyne.CurrentApp().Driver()
	var placeholder *widget.RichText
	for _, rt := range findAll[*widget.RichText](field) {
		if rt.String() == field.PlaceHolder {
			placeholder = rt
		}
	}
	if placeholder == nil || field.ActionItem == nil {
		t.Fatal("the password field shows no placeholder or no reveal button")
	}
	if end, reveal := d.AbsolutePositionForObject(placeholder).X+placeholder.MinSize().Width, d.AbsolutePositionForObject(field.ActionItem).X; end > reveal {
		t.Errorf("at 800×600 the placeholder %q needs up to x=%.0f; the field shows it up to x=%.0f", field.PlaceHolder, end, reveal)
	}
	test.Tap(findButton(t, dlg, "Cancel"))
	if s.win.Canvas().Overlays().Top() != nil {
		t.Fatal("Cancel left the Connect dialog open")
	}
	s.win.Resize(fyne.NewSize(1100, 700))

	// A wrong password keeps the dialog open, with the sentence in it and
	// the field emptied for the next try, which connects and closes it.
	dlg, field = remoteTestConnect(t, s, watch, "not the password")
	if s.win.Canvas().Overlays().Top() != dlg {
		t.Fatal("a wrong password closed the Connect dialog")
	}
	if !slices.ContainsFunc(findAll[*widget.Label](dlg), func(l *widget.Label) bool { return strings.Contains(l.Text, "4 tries left") }) {
		t.Errorf("after a wrong password the dialog does not say the tries left")
	}
	if field.Text != "" || s.win.Canvas().Focused() != field || s.status.Visible() {
		t.Errorf("after a wrong password the field holds %q (focused %v) and the page says %q; want it empty and focused, the page quiet",
			field.Text, s.win.Canvas().Focused() == field, s.status.Text)
	}
	// A refusal that comes after Cancel shows under the list.
	test.Type(field, "still not the password")
	watch.during(t, jobConnect, func() {
		test.Tap(findButton(t, dlg, "Connect"))
		test.Tap(findButton(t, dlg, "Cancel"))
	})
	if s.win.Canvas().Overlays().Top() != nil || !labelShown(s.status) || !strings.Contains(s.status.Text, "3 tries left") {
		t.Errorf("a refusal after Cancel: dialog %v, page says %q; want no dialog and the tries left under the list",
			s.win.Canvas().Overlays().Top(), s.status.Text)
	}
	test.Tap(s.connect)
	dlg, field = remoteTestDialog(t, s)
	test.Type(field, coretest.Password)
	watch.during(t, jobConnect, func() { test.Tap(findButton(t, dlg, "Connect")) })
	watch.wait(t, jobSystem)
	if len(s.remotes) != 1 || s.status.Visible() || s.win.Canvas().Overlays().Top() != nil {
		t.Fatalf("%d remote windows, status %q, dialog %v; want one, no refusal, the dialog closed", len(s.remotes), s.status.Text, s.win.Canvas().Overlays().Top())
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
	if want := "as of " + clock.Now().Local().Format(time.TimeOnly); r.asOf.Text != want {
		t.Errorf("the System tab says %q; want %q", r.asOf.Text, want)
	}
	clock.Advance(83 * time.Second)
	watch.during(t, jobSystem, func() { test.Tap(r.refresh) })
	if got := r.fields["Uptime"].Text; got != "1 day 2 h 07 min" {
		t.Errorf("after Refresh the uptime shows %q, want the fresh 1 day 2 h 07 min", got)
	}
	if want := "as of " + clock.Now().Local().Format(time.TimeOnly); r.asOf.Text != want {
		t.Errorf("after Refresh the System tab says %q; want %q", r.asOf.Text, want)
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

// remoteTestConnect taps Connect, types password into the dialog's
// password field and confirms, then waits for the answer on screen. It
// returns the dialog and its field (the dialog stays open on a refusal).
func remoteTestConnect(t testing.TB, s *computersScreen, watch *workWatch, password string) (fyne.CanvasObject, *widget.Entry) {
	t.Helper()
	test.Tap(s.connect)
	dlg, field := remoteTestDialog(t, s)
	test.Type(field, password)
	watch.during(t, jobConnect, func() { test.Tap(findButton(t, dlg, "Connect")) })
	return dlg, field
}

// remoteTestDialog is the Connect dialog on top and its password field.
func remoteTestDialog(t testing.TB, s *computersScreen) (fyne.CanvasObject, *widget.Entry) {
	t.Helper()
	dlg := s.win.Canvas().Overlays().Top()
	var field *widget.Entry
	for _, e := range findAll[*widget.Entry](dlg) {
		if e.Password {
			field = e
		}
	}
	if dlg == nil || field == nil {
		t.Fatal("Connect did not ask for the password")
	}
	return dlg, field
}

// remoteTestOpen connects to a paired PC through the Connect dialog and
// returns its remote window and the work watch.
func remoteTestOpen(t testing.TB, setup ...func(*support.App)) (*core.Station, *computersScreen, *remoteWindow, *workWatch) {
	t.Helper()
	return remoteTestOpenVia(t, pathDirect, setup...)
}

// remotePath is how the PC reaches the station in a UI test.
type remotePath string

const (
	// pathDirect: the app dials the station's pairing service.
	pathDirect remotePath = "direct"
	// pathHub: the station is joined to a real relay hub and the app
	// reaches it only through the hub (remoteTestHubConnected).
	pathHub remotePath = "hub"
)

// remoteTestOpenVia is remoteTestOpen with the PC on path.
func remoteTestOpenVia(t testing.TB, path remotePath, setup ...func(*support.App)) (*core.Station, *computersScreen, *remoteWindow, *workWatch) {
	t.Helper()
	st, clock, s, sub := pagesTestComputers(t)
	var h *hubtest.Hub
	if path == pathHub {
		// Joined before the invitation, so its link and download name the hub.
		h = hubtest.Start(t, clock.Now) // the hub judges expiry by the station's test clock
		if _, err := st.JoinHub(t.Context(), h.Client, h.URL, h.Code()); err != nil {
			t.Fatal(err)
		}
	}
	watch := watchWork(&s.work)
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	deliverUntil(t, sub, s.onEvent, core.EventPrepared)
	s.list.Select(0)
	if h == nil {
		remoteTestConnected(t, st, prep, setup...)
	} else {
		remoteTestHubConnected(t, st, h, prep, setup...)
	}
	deliverUntil(t, sub, s.onEvent, core.EventPaired)
	remoteTestConnect(t, s, watch, coretest.Password)
	watch.wait(t, jobSystem)
	if len(s.remotes) != 1 {
		t.Fatalf("%d remote windows; want one", len(s.remotes))
	}
	return st, s, s.remotes[0], watch
}

// remoteTestChannel pairs a PC with st through the real pairing service
// and opens its live channel with the real agent client.
func remoteTestChannel(t testing.TB, st *core.Station, prep core.Prepared) *yamux.Session {
	t.Helper()
	srv, err := pairing.Start(t.Context(), st, pairing.Options{ListenAddr: "127.0.0.1:0", AgentExe: []byte("MZ")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return agenttest.LiveChannel(t, srv, pairPC(t, st, prep).AgentKey, support.ChannelTiming{})
}

// remoteTestHubConnected is remoteTestConnected with only the hub reachable
// for the app: the station's pairing service holds its link to h; the
// app's download, fetched from the hub, names the hub and a relay token
// (and not the station's own address); the real agent client pairs and
// opens its live channel through the hub's relay, its pinned TLS inside.
// It returns when the station counts the channel as through the hub.
func remoteTestHubConnected(t testing.TB, st *core.Station, h *hubtest.Hub, prep core.Prepared, setup ...func(*support.App)) {
	t.Helper()
	states := make(chan pairing.HubState, 64)
	srv, err := pairing.Start(t.Context(), st, pairing.Options{ListenAddr: "127.0.0.1:0", AgentExe: []byte("MZ"),
		HubClient: h.Client, OnHubState: func(s pairing.HubState) {
			select {
			case states <- s:
			default: // only the first changes matter here; never hold up the link
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	for !coretest.Receive(t, states, "the station's link to the hub to be up").Connected {
	}

	resp, err := h.Client.Get(prep.Link + "/download")
	if err != nil {
		t.Fatal(err)
	}
	program, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the download through the hub: HTTP %d, %v", resp.StatusCode, err)
	}
	d, err := wire.ReadDetails(program[max(0, len(program)-wire.TrailerReadSize):])
	if err != nil || d.Hub != h.URL || d.RelayToken == "" || d.StationURL == srv.URL() {
		t.Fatalf("the download's details %+v (%v) do not send the app through the hub %s", d, err, h.URL)
	}
	c, err := support.NewClientVia(d.StationURL, d.Pins, &support.Hub{URL: d.Hub, Token: d.RelayToken, HTTPClient: h.Client})
	if err != nil {
		t.Fatal(err)
	}
	f := coretest.WindowsPC
	paired, err := c.Pair(t.Context(), wire.PairRequest{Token: d.Token, Code: prep.Code, Facts: wire.Facts{Hostname: f.Hostname,
		OSName: f.OSName, OSVersion: f.OSVersion, Arch: f.Arch, WindowsUser: f.WindowsUser, MachineID: f.MachineID}})
	if err != nil {
		t.Fatalf("pairing through the hub: %v", err)
	}
	c.SetRelayToken(paired.RelayToken)
	ys, _, err := c.OpenChannel(t.Context(), paired.AgentKey, support.ChannelTiming{})
	if err != nil || ys == nil {
		t.Fatalf("live channel through the hub: %v", err)
	}
	t.Cleanup(func() { ys.Close() })
	deadline := time.Now().Add(coretest.WaitLimit)
	for !srv.ThroughHub(prep.Session.ID) {
		if time.Now().After(deadline) {
			t.Fatal("the station never counted the PC's live channel as through the hub")
		}
		time.Sleep(5 * time.Millisecond) // polling the station's mark, set as the channel is accepted
	}
	app := &support.App{Sys: &remoteTestPC{password: coretest.Password}, UI: remoteTestTray{}}
	for _, f := range setup {
		f(app)
	}
	go app.ServeChannel(ys, "Tom")
}
