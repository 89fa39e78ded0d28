//go:build !windows

package support_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adhocstation/agent/agenttest"
	"adhocstation/agent/applog"
	"adhocstation/agent/pipe"
	"adhocstation/agent/screen"
	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/pairing"
	"adhocstation/core/wire"
)

var windowsPC = wire.Facts{Hostname: "DESKTOP-7QK2", OSName: "Windows 11 Pro", OSVersion: "10.0.22631",
	Arch: "amd64", WindowsUser: "anna", MachineID: "4c4c4544-0042-3510-8052-b4c04f4d3732"}

// rig is a real station with its pairing endpoint on 127.0.0.1 and the real
// agent logic with the Windows calls recorded.
type rig struct {
	t testing.TB
	// stopped is closed when the latest service run's Run has returned.
	stopped chan struct{}
	st      *core.Station
	clock   *coretest.Clock
	agent   *fakeClock
	prep    core.Prepared
	profile core.Profile
	rec     *recorder
	app     *support.App
	sub     *core.Subscription
	srv     *pairing.Server
	done    chan error
	cancel  context.CancelFunc
	// pipe is the service's socket; hub the service side of it. Each start
	// is a new service process with a setup helper and a tray helper.
	pipe string
	hub  *pipe.Hub
	who  func(net.Conn) (pipe.Caller, error)
	// whoAdmin says whether who names the setup helper an administrator.
	whoAdmin bool
	// helpers holds one result channel per helper not yet seen to return.
	helpers []chan error
	// log is the service's log, as the PC keeps it.
	log coretest.LogBuffer
	// channel is the app's live channel timing (agenttest.FastChannel unless a
	// benchmark wants the production one).
	channel support.ChannelTiming
	// desktop, if set, is the PC's screen (the activity tests' Xvfb, the
	// hub tests' still desktop); hubClient is the app's client for the
	// relay hub (hub_test.go).
	desktop   func() (screen.Desktop, error)
	hubClient *http.Client
}

// waitingRig is a rig with a paired Windows PC whose app runs and waits
// for the technician.
func waitingRig(t testing.TB) *rig {
	r := newRig(t, windowsPC, nil, rightCode)
	r.start()
	r.waitStatus(support.TrayWaiting)
	return r
}

func newRig(t testing.TB, facts wire.Facts, pins func([]string) []string, codes func(right string) []string) *rig {
	st, clock := coretest.Open(t)
	profile, prep := coretest.MustPrepare(t, st, "Ana Tech", "ana@example.com")
	srv := agenttest.ServeStation(t, st)
	program := agenttest.Download(t, srv, prep.Session.Token)
	if pins != nil {
		// A download whose pins do not match the server at its address.
		var err error
		program, err = wire.AppendDetails(agenttest.FakeProgram, wire.Details{StationURL: srv.URL(), Pins: pins(srv.Pins()),
			Token: prep.Session.Token, Technician: wire.Technician{Name: profile.Name, Email: profile.Email}})
		if err != nil {
			t.Fatal(err)
		}
	}
	r := &rig{t: t, st: st, srv: srv, clock: clock, agent: newFakeClock(coretest.Start), prep: prep, profile: profile,
		rec: newRecorder(t.TempDir(), program, facts, codes(prep.Code)...), sub: st.Subscribe(), done: make(chan error, 1),
		pipe: filepath.Join(t.TempDir(), "AdHocSupport.pipe"), who: agenttest.PeerCred, whoAdmin: true, channel: agenttest.FastChannel}
	t.Cleanup(r.sub.Close)
	return r
}

// start runs the service logic (support.App with the hub as its UI) on a
// Unix socket, and the two helpers, each with the recorder as its screen,
// connected to it: the setup helper answers consent and code, the tray
// shows the status and passes on "End support session".
func (r *rig) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.t.Cleanup(cancel)
	joined := make(chan string, 2)
	run := r.listen(joined)
	r.helper(ctx, pipe.RoleSetup, r.rec)
	r.helper(ctx, pipe.RoleTray, r.rec)
	// Both helpers are on the pipe before the service starts its work, so
	// neither misses a message (on Windows a late tray just sees less).
	if r.whoAdmin {
		coretest.Receive(r.t, joined, "the setup helper to join")
	}
	coretest.Receive(r.t, joined, "the tray helper to join")
	run(ctx)
	// The service still writes its state folder (the activity list's own
	// writer, the log) for a moment after its context ends: the test's
	// temporary folders are removed only once Run has returned. Cleanups
	// run last-in first-out, so this cancel comes before the wait.
	stopped := r.stopped
	r.t.Cleanup(func() {
		select {
		case <-stopped:
		case <-time.After(coretest.WaitLimit):
			r.t.Errorf("the app's Run did not return within %v of the test's end", coretest.WaitLimit)
		}
	})
	r.t.Cleanup(cancel)
}

// serve starts the service alone, as Windows starts it.
func (r *rig) serve(ctx context.Context) { r.listen(nil)(ctx) }

// listen opens the service's pipe and returns the function that runs the
// service logic; joined, if not nil, learns each helper that joins.
func (r *rig) listen(joined chan string) func(context.Context) {
	if r.hub != nil {
		r.hub.Close() // the previous service process is gone (killed or ended)
	}
	_ = os.Remove(r.pipe)
	ln, err := net.Listen("unix", r.pipe)
	if err != nil {
		r.t.Fatal(err)
	}
	hub := pipe.NewHub(r.who)
	hub.Clock = r.agent
	if joined != nil {
		hub.OnJoin = func(role string, _ pipe.Caller) { joined <- role }
	}
	go hub.Serve(ln)
	r.t.Cleanup(hub.Close)
	r.hub = hub
	r.app = &support.App{Sys: r.rec, UI: hub, Clock: r.agent, HeartbeatEvery: 30 * time.Second, Channel: r.channel,
		Log: applog.New(&r.log, "", 0)}
	app := r.app
	return func(ctx context.Context) {
		app.OpenDesktop = faultDesktop // nil but in TestFaultStationChild (faults_test.go)
		if r.desktop != nil {
			app.OpenDesktop = r.desktop
		}
		app.HubClient = r.hubClient
		stopped := make(chan struct{})
		r.stopped = stopped
		go func() {
			var err error
			func() {
				// Deferred, so a run ended as a killed process
				// (recorder.call's Goexit) counts as stopped too.
				defer close(stopped)
				err = app.Run(ctx)
				hub.Close() // the service process ends
			}()
			r.done <- err
		}()
	}
}

// helper connects a helper with ui as its screen to the running service
// and returns where its result will come.
func (r *rig) helper(ctx context.Context, role string, ui support.UI) chan error {
	conn, err := net.Dial("unix", r.pipe)
	if err != nil {
		r.t.Fatal(err)
	}
	done := make(chan error, 1)
	r.helpers = append(r.helpers, done)
	go func() {
		done <- pipe.RunHelper(ctx, conn, role, ui)
		close(done) // read once by the test, then seen as finished
	}()
	return done
}

// finished waits for the app's Run to return, failing the test after
// coretest.WaitLimit, saying what it should have returned (want), instead
// of hanging until go test's -timeout.
func (r *rig) finished(want string) error {
	r.t.Helper()
	err := coretest.Receive(r.t, r.done, "the app's Run to return "+want)
	r.helpersDone()
	return err
}

// finishedAdvancing is finished for an end that waits on the agent's
// clock (the receipt's or the profile's retries): each armed timer is
// moved past by step until Run returns.
func (r *rig) finishedAdvancing(step time.Duration, want string) error {
	r.t.Helper()
	deadline := time.After(coretest.WaitLimit)
	for {
		select {
		case err := <-r.done:
			r.helpersDone()
			return err
		case <-r.agent.armed:
			r.agent.Advance(step)
		case <-deadline:
			r.t.Fatalf("waited %v for the app's Run to return %s", coretest.WaitLimit, want)
		}
	}
}

// helpersDone waits for every helper to return (told the final message,
// or the service's pipe closed), so their screens show all they were told.
func (r *rig) helpersDone() {
	r.t.Helper()
	for _, done := range r.helpers {
		coretest.Await(r.t, done, "the helpers to finish once the service is done")
	}
	r.helpers = nil
}

// waitStatus waits for the tray to show want, or for Run to end.
func (r *rig) waitStatus(want support.TrayState) support.Status {
	r.t.Helper()
	deadline := time.After(coretest.WaitLimit)
	for {
		select {
		case <-deadline:
			r.t.Fatalf("waited %v for the tray to show %q", coretest.WaitLimit, want)
		case s := <-r.rec.status:
			if s.State == want {
				return s
			}
		case err := <-r.done:
			_, problems, told, _, _ := r.rec.snapshot()
			r.t.Fatalf("the app stopped (%v) before the tray showed %q; problems %q, told %+v", err, want, problems, told)
		}
	}
}

// waitEvent waits for an event of kind about the rig's session.
func (r *rig) waitEvent(kind core.EventKind) {
	r.t.Helper()
	coretest.WaitEvent(r.t, r.sub, kind, r.prep.Session.ID)
}

func (r *rig) session() core.Session {
	r.t.Helper()
	s, err := r.st.Session(context.Background(), r.prep.Session.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// audited reports whether the audit log has a row with event about the session.
func (r *rig) audited(event, detail string) bool {
	rows, err := r.st.Audit(context.Background(), core.AuditFilter{Search: event})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, row := range rows {
		if row.SessionID == r.prep.Session.ID && row.Event == event && strings.Contains(row.Detail, detail) {
			return true
		}
	}
	return false
}

// checkCleanedUp asserts that the account, its hiding value, the state file
// and the program are gone and the station has the receipt.
func (r *rig) checkCleanedUp(err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatalf("Run = %v, want nil after a clean end", err)
	}
	calls, _, told, accounts, hidden := r.rec.snapshot()
	if len(accounts) != 0 || len(hidden) != 0 {
		r.t.Errorf("after the end: accounts %v, hidden %v; want none", accounts, hidden)
	}
	if _, err := os.Stat(r.rec.installedExe()); !errors.Is(err, os.ErrNotExist) {
		r.t.Errorf("the app did not remove its installed copy: %v", err)
	}
	if _, err := os.Stat(filepath.Join(r.rec.stateDir, "session.json")); !errors.Is(err, os.ErrNotExist) {
		r.t.Errorf("the state file is still there: %v", err)
	}
	order := strings.Join(calls, ",")
	if !strings.Contains(order, "disable AdHocRemoteUser,sign out AdHocRemoteUser") ||
		!strings.Contains(order, "delete AdHocRemoteUser,unhide AdHocRemoteUser") || !strings.HasSuffix(order, "uninstall") {
		r.t.Errorf("calls %s: want disable, sign out, ..., delete, unhide, ... uninstall last", order)
	}
	if !r.audited("cleanup receipt", "AdHocRemoteUser") {
		r.t.Error("no cleanup receipt in the station's audit log")
	}
	if c := r.session().Computer; c == nil || !c.CleanedUp {
		r.t.Errorf("computer %+v: want CleanedUp", c)
	}
	if last := told[len(told)-1]; !last.Final || !strings.Contains(last.Text, "was removed") {
		r.t.Errorf("last message %+v: want the final removal notice", last)
	}
}

func TestEndToEndSession24Hours(t *testing.T) {
	r := newRig(t, windowsPC, nil, func(right string) []string { return []string{coretest.WrongCode(right), right} })
	r.start()
	s := r.waitStatus(support.TrayWaiting)
	r.waitEvent(core.EventPaired)

	_, problems, _, accounts, hidden := r.rec.snapshot()
	if len(problems) != 2 || problems[0] != "" || !strings.Contains(problems[1], "4 tries left") {
		t.Errorf("the code dialog was told %q; want the wrong code refused with 4 tries left", problems)
	}
	acc, ok := accounts[support.AccountName]
	if !ok || acc.Password != coretest.Password || !hidden[support.AccountName] {
		t.Fatalf("accounts %v hidden %v: want %s with the technician's password, hidden", accounts, hidden, support.AccountName)
	}
	if want := coretest.Start.Add(24 * time.Hour); !acc.Expires.Equal(want) || !s.ExpiresAt.Equal(want) {
		t.Errorf("account expiry %v, tray expiry %v; want %v", acc.Expires, s.ExpiresAt, want)
	}
	if !strings.Contains(acc.Comment, "Ad Hoc Support") {
		t.Errorf("account comment %q does not say what it is", acc.Comment)
	}
	sess := r.session()
	if sess.State != core.StateActive || sess.Computer == nil || !sess.Computer.AccountReady || sess.Computer.Hostname != windowsPC.Hostname {
		t.Fatalf("session %s, computer %+v: want active with the account confirmed", sess.State, sess.Computer)
	}
	if sess.ViaHub != "" || r.audited("session active", "through the hub") {
		t.Errorf("a PC paired directly is recorded as paired via the hub %q", sess.ViaHub)
	}
	state, err := os.ReadFile(filepath.Join(r.rec.stateDir, "session.json"))
	if err != nil || bytes.Contains(state, []byte(coretest.Password)) {
		t.Errorf("state file: %v; must exist and never hold the password", err)
	}

	r.clock.Advance(23*time.Hour + 59*time.Minute)
	r.agent.Advance(23*time.Hour + 59*time.Minute)
	if s := r.waitStatus(support.TrayWaiting); s.TimeLeft != time.Minute {
		t.Errorf("at 23h59m the tray shows %v left, want 1m", s.TimeLeft)
	}
	r.clock.Advance(time.Minute)
	if err := r.st.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.agent.Advance(time.Minute)
	r.checkCleanedUp(r.finished("nil, everything cleaned up"))
	r.waitEvent(core.EventCleanedUp)
	if st := r.session().State; st != core.StateExpired {
		t.Errorf("session %s, want expired", st)
	}
}

func TestWrongPinRefused(t *testing.T) {
	other := func([]string) []string { return []string{"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="} }
	r := newRig(t, windowsPC, other, func(right string) []string { return []string{right} })
	r.start()
	if err := r.finished("ErrRefused: the station's certificate does not match the pin"); !errors.Is(err, support.ErrRefused) {
		t.Fatalf("Run = %v, want ErrRefused", err)
	}
	_, _, told, accounts, _ := r.rec.snapshot()
	if len(accounts) != 0 || len(told) == 0 || !strings.Contains(told[len(told)-1].Text, "could not be verified") {
		t.Errorf("accounts %v, told %+v: want no account and the verification message", accounts, told)
	}
	if s := r.session(); s.State != core.StatePrepared || s.CodeAttemptsLeft != 5 {
		t.Errorf("session %s with %d tries left: the pairing must never reach the station", s.State, s.CodeAttemptsLeft)
	}
}

func TestNotWindowsRefused(t *testing.T) {
	ubuntu := windowsPC
	ubuntu.OSName = "Ubuntu"
	r := newRig(t, ubuntu, nil, func(right string) []string { return []string{right} })
	r.start()
	if err := r.finished("support.ErrRefused"); !errors.Is(err, support.ErrRefused) {
		t.Fatalf("Run = %v, want ErrRefused", err)
	}
	_, _, told, accounts, _ := r.rec.snapshot()
	if len(accounts) != 0 || told[len(told)-1].Text != "The Support Session app runs on Windows PCs only." {
		t.Errorf("accounts %v, told %+v", accounts, told)
	}
	if !r.audited("pairing refused", "Windows") {
		t.Error("the refusal is not in the audit log")
	}
}
