package pairing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/yamux"

	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/hublink"
	"adhocstation/core/remote"
	"adhocstation/core/wire"
	"adhocstation/hub/hubtest"
)

// takeoverPC is the PC's side: the real agent code serving the live
// channel, with only the system calls it makes replaced (the password
// check and the shell).
type takeoverPC struct {
	support.System
	password string
}

func (p *takeoverPC) CheckPassword(name, password string) (support.Logon, error) {
	if name != support.AccountName || password != p.password {
		return nil, support.ErrWrongPassword
	}
	return takeoverLogon{}, nil
}

type takeoverLogon struct{}

func (takeoverLogon) Close() error { return nil }
func (takeoverLogon) Command(shell, line string) (*exec.Cmd, error) {
	if shell != wire.ShellPowerShell && shell != wire.ShellCmd {
		return nil, fmt.Errorf("this PC does not know the shell %q", shell)
	}
	return exec.Command("sh", "-c", line), nil
}

type takeoverTray struct{ support.UI }

func (takeoverTray) Tell(support.Message) {}

func takeoverApp(password string) *support.App {
	return &support.App{Sys: &takeoverPC{password: password}, UI: takeoverTray{}}
}

// controlConn is a relayed connection as hublink hands it over: it carries
// the hub's control message (hublink.ControlOf finds it through the TLS).
type controlConn struct {
	net.Conn
	m hublink.ControlMessage
}

func (c controlConn) Control() hublink.ControlMessage { return c.m }

type controlListener struct {
	net.Listener
	m hublink.ControlMessage
}

func (l controlListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return controlConn{Conn: c, m: l.m}, nil
}

// serveAsRelays serves srv's relay handling (as hub.go sets it up for the
// link's streams) on a local listener whose every connection came with m.
func serveAsRelays(t *testing.T, srv *Server, m hublink.ControlMessage) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.httpServer()
	hs.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return takeoverContext(context.WithValue(ctx, viaHubKey{}, "https://hub.test"), c)
	}
	hs.Handler = srv.takeoverGuard(hs.Handler)
	go hs.ServeTLS(controlListener{Listener: ln, m: m}, "", "")
	t.Cleanup(func() { hs.Close() })
	return "https://" + ln.Addr().String()
}

// notOwnerAnswer says the app got this station's not_owner answer: its
// code as a *wire.Error, or (an app that takes it as "try again later")
// its sentence inside the app's own.
func notOwnerAnswer(err error) bool {
	var w *wire.Error
	if errors.As(err, &w) {
		return w.Code == wire.CodeNotOwner
	}
	return err != nil && strings.Contains(err.Error(), notOwner().body.Message)
}

// TestTakeoverChannelWithoutLocalSession: station B serves the live channel
// of a PC paired at station A when the relay came for a takeover (its
// control message names the owner): no session of B's is looked up, and
// the channel goes to the registry only while B takes that session over;
// the app's other calls are answered 503 not_owner. On the channel the real
// agent code checks the password: wrong ones are refused with the tries
// left, counted per session of the other station and locked after 5 for 5
// minutes, each in B's audit; the right one signs in with the technician
// named with B's station and runs a command. Releasing closes the channel.
func TestTakeoverChannelWithoutLocalSession(t *testing.T) {
	ctx := t.Context()
	b := newEnv(t)
	if _, err := b.st.CreateProfile(ctx, "Bea Tech", "bea@example.org"); err != nil {
		t.Fatal(err)
	}
	const owner, sid = "station-a-id", int64(12)
	url := serveAsRelays(t, b.srv, hublink.ControlMessage{Type: "accept", RelayID: "r1", Session: strconv.FormatInt(sid, 10), Owner: owner})
	// The PC trusts B's key as one of its team's pins (A told it them).
	c, err := support.NewClient(url, b.srv.Pins())
	if err != nil {
		t.Fatal(err)
	}
	const agentKey = "A's agent key, unknown at B"

	// Nothing taken over: the channel and every other call say not_owner.
	if _, _, err := c.OpenChannel(ctx, agentKey, support.ChannelTiming{}); !notOwnerAnswer(err) {
		t.Fatalf("a channel no takeover waits for: %v, want %s", err, wire.CodeNotOwner)
	}
	_, err = c.Agent(ctx, "heartbeat", agentKey, "")
	if !notOwnerAnswer(err) {
		t.Fatalf("a check-in on a takeover relay: %v, want 503 %s", err, wire.CodeNotOwner)
	}

	k := takeoverKey{owner: owner, session: sid}
	slot, ok := b.srv.taken.open(k)
	if !ok {
		t.Fatal("the takeover could not be registered")
	}
	if _, ok := b.srv.taken.open(k); ok {
		t.Fatal("the same session was taken over twice at once")
	}
	ys, _, err := c.OpenChannel(ctx, agentKey, support.ChannelTiming{})
	if err != nil || ys == nil {
		t.Fatalf("the takeover's channel: %v", err)
	}
	defer ys.Close()
	select {
	case <-slot.came:
	case <-time.After(coretest.WaitLimit):
		t.Fatal("the PC's channel never reached the takeover")
	}
	go takeoverApp(coretest.Password).ServeChannel(ys, "Anna Tech")

	target := core.TeamTarget{Owner: owner, Session: sid, Computer: "DESKTOP-7QK2", PreparedBy: "Anna Tech"}
	for i := 1; i <= core.MaxSignInTries; i++ {
		_, err := b.st.ConnectTeam(ctx, target, slot, "not the password")
		var wrong *core.WrongPasswordError
		switch {
		case i < core.MaxSignInTries && (!errors.As(err, &wrong) || wrong.TriesLeft != core.MaxSignInTries-i):
			t.Fatalf("wrong password %d: %v, want %d tries left", i, err, core.MaxSignInTries-i)
		case i == core.MaxSignInTries && !errors.Is(err, core.ErrConnectLocked):
			t.Fatalf("wrong password %d: %v, want locked", i, err)
		}
	}
	auditHas(t, b.st, "team remote sign-in refused", "Bea Tech typed a wrong password for DESKTOP-7QK2 of station "+owner+"'s session 12 (4 tries left)")
	auditHas(t, b.st, "team remote sign-in refused", "for the 5th time: connecting is locked for 5 minutes")
	if _, err := b.st.ConnectTeam(ctx, target, slot, coretest.Password); !errors.Is(err, core.ErrConnectLocked) {
		t.Fatalf("the right password while locked: %v, want locked", err)
	}
	// The lock is per session of the other station: another is not locked.
	other := target
	other.Session = 13
	if _, err := b.st.ConnectTeam(ctx, other, slot, "not the password"); !errors.Is(err, core.ErrWrongPassword) {
		t.Fatalf("another session of A: %v, want only a wrong password", err)
	}
	b.clock.Advance(core.SignInLock)
	rs, err := b.st.ConnectTeam(ctx, target, slot, coretest.Password)
	if err != nil {
		t.Fatalf("the right password after the lock: %v", err)
	}
	if !strings.HasPrefix(rs.Technician, "Bea Tech (station ") {
		t.Errorf("the PC is told the technician is %q; want Bea Tech named with the station", rs.Technician)
	}
	var out strings.Builder
	if err := rs.Run(ctx, wire.ShellCmd, "echo taken over", func(b []byte) { out.Write(b) }); err != nil || !strings.Contains(out.String(), "taken over") {
		t.Fatalf("a command on the taken-over PC: %v, output %q", err, out.String())
	}
	auditHas(t, b.st, "team remote sign-in", "Bea Tech signed in to DESKTOP-7QK2 of station "+owner+"'s session 12 (the PC accepted the password)")
	rs.Close()
	if err := b.st.WaitRemoteClosed(ctx); err != nil {
		t.Fatal(err)
	}
	auditHas(t, b.st, "team remote session closed", "Bea Tech closed the remote session on DESKTOP-7QK2 of station "+owner+"'s session 12")

	// A newer channel of the PC replaces the older; releasing closes it and
	// a channel after the release is refused again.
	ys2, _, err := c.OpenChannel(ctx, agentKey, support.ChannelTiming{})
	if err != nil || ys2 == nil {
		t.Fatalf("the PC's second channel: %v", err)
	}
	defer ys2.Close()
	waitClosed(t, ys, "the older channel to close")
	b.srv.taken.close(k, slot)
	waitClosed(t, ys2, "the channel to close at the release")
	if _, _, err := c.OpenChannel(ctx, agentKey, support.ChannelTiming{}); !notOwnerAnswer(err) {
		t.Fatalf("a channel after the release: %v, want %s", err, wire.CodeNotOwner)
	}
}

// TestTakeoverRefusedWithoutTeam: a station in no team cannot take over,
// and says so.
func TestTakeoverRefusedWithoutTeam(t *testing.T) {
	b := newEnv(t)
	_, _, err := b.srv.TakeOver(t.Context(), "station-a-id", 12)
	if !errors.Is(err, ErrNoTeamNow) {
		t.Fatalf("a takeover from a station in no team: %v", err)
	}
}

// pcAt is the PC's side of a session paired at a station through the hub:
// the real agent client and channel code, redialling as the app does while
// ctx lives; each channel it holds is sent on up.
func pcAt(t *testing.T, c *support.Client, agentKey, password string) <-chan *yamux.Session {
	t.Helper()
	up := make(chan *yamux.Session, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	app := takeoverApp(password)
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			ys, _, err := c.OpenChannel(ctx, agentKey, support.ChannelTiming{})
			if err != nil || ys == nil {
				select { // the app's backoff, shortened
				case <-ctx.Done():
				case <-time.After(50 * time.Millisecond):
				}
				continue
			}
			go app.ServeChannel(ys, "Anna Tech")
			up <- ys
			select {
			case <-ys.CloseChan():
			case <-ctx.Done():
				ys.Close()
			}
		}
	}()
	return up
}

// waitThroughHub waits until station srv holds session id's channel
// through the hub.
func waitThroughHub(t *testing.T, srv *Server, id int64, what string) {
	t.Helper()
	deadline := time.Now().Add(coretest.WaitLimit)
	for !srv.ThroughHub(id) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", coretest.WaitLimit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConnectToPCOfAnotherStation (issue 20, item 3): a PC paired at
// station A is connected to from station B. A real hub with its team
// server, two real stations (SQLite, pairing service, team client), the
// real agent code holding its live channel through the hub with A's relay
// token. B takes the PC over (the hub routes its relays to B, A drops its
// channel on B's took key), a wrong password is refused and counted, the
// right one signs in and a command runs on the PC; B's audit has the rows
// and A's says B connected. Releasing gives the PC back to A.
func TestConnectToPCOfAnotherStation(t *testing.T) {
	r := newTakeoverRig(t)
	a, b, sess, paired, key, up := r.a, r.b, r.sess, r.paired, r.key, r.up
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	asked := time.Now()
	open, release, err := b.env.srv.TakeOver(ctx, a.id, sess.ID)
	t.Logf("B held the PC's channel %v after TakeOver was called (hub registration, took key, the PC's redial through the hub)", time.Since(asked))
	if err != nil {
		t.Fatalf("B's takeover: %v", err)
	}
	coretest.Receive(t, up, "the PC's channel to B")
	if _, _, err := b.env.srv.TakeOver(ctx, a.id, sess.ID); !errors.Is(err, ErrTakeoverBusy) {
		t.Fatalf("a second takeover of the same PC while B holds it: %v", err)
	}
	// As B's Computers page has the line: A's name and the PC's.
	l := b.env.srv.TeamSessions()[0]
	if l.Computer != coretest.WindowsPC.Hostname || l.StationName == "" {
		t.Fatalf("B's line of A's session: %+v, want the PC's and A's names", l)
	}
	target := core.TeamTarget{Owner: a.id, OwnerName: l.StationName, Session: sess.ID, Computer: l.Computer, PreparedBy: l.PreparedBy}
	if _, err := b.st.ConnectTeam(ctx, target, open, "not the password"); !errors.Is(err, core.ErrWrongPassword) {
		t.Fatalf("a wrong password: %v", err)
	}
	auditHas(t, b.st, "team remote sign-in refused", "(4 tries left)")
	rs, err := b.st.ConnectTeam(ctx, target, open, paired.Password)
	if err != nil {
		t.Fatalf("the right password at B: %v", err)
	}
	var out strings.Builder
	if err := rs.Run(ctx, wire.ShellCmd, "echo at station B", func(p []byte) { out.Write(p) }); err != nil || !strings.Contains(out.String(), "at station B") {
		t.Fatalf("a command from B: %v, output %q", err, out.String())
	}
	auditHas(t, b.st, "team remote sign-in", "Bea Tech signed in to "+l.Computer+" of station "+l.StationName+" ("+a.id+")'s session "+key+" (the PC accepted the password)")
	waitAudit(t, a.st, "Bea Tech", "A's audit of B's connect (the took key)")

	rs.Close()
	// B recorded its remote session, as its own, under no session of its own.
	if err := b.st.WaitRecordings(ctx); err != nil {
		t.Fatal(err)
	}
	recs, err := b.st.Recordings(ctx, 0)
	if err != nil || len(recs) != 1 || !recs[0].Saved || !recs[0].Complete || recs[0].SessionID != 0 {
		t.Fatalf("B's recordings after the takeover: %+v, %v; want one saved and complete", recs, err)
	}
	release()
	coretest.Receive(t, up, "the PC's channel back at A")
	waitThroughHub(t, a.env.srv, sess.ID, "A to hold the PC's channel again")
	if _, err := b.st.ConnectTeam(ctx, target, open, paired.Password); !errors.Is(err, core.ErrPCOffline) {
		t.Fatalf("after the release B still reaches the PC: %v", err)
	}
}

// TestConnectToPCOfOfflineStation: the technician at A went home (A's
// service is closed) and the PC redials the hub, which says A is offline.
// B takes the PC over all the same (the hub hands the PC's next relay to
// B), signs in and runs a command; after the release the PC waits for A
// again, and A, back, holds its channel and audits B's connect from the
// took key its watch replays.
func TestConnectToPCOfOfflineStation(t *testing.T) {
	r := newTakeoverRig(t)
	r.a.env.srv.Close()
	waitFor(t, r.b.lists, "A offline on B", func(l []TeamSession) bool { return len(l) == 1 && !l[0].StationOnline })

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	open, release, err := r.b.env.srv.TakeOver(ctx, r.a.id, r.sess.ID)
	if err != nil {
		t.Fatalf("B's takeover with A offline: %v", err)
	}
	coretest.Receive(t, r.up, "the PC's channel to B")
	rs, err := r.b.st.ConnectTeam(ctx, core.TeamTarget{Owner: r.a.id, Session: r.sess.ID, PreparedBy: "Anna Tech"}, open, r.paired.Password)
	if err != nil {
		t.Fatalf("signing in at B: %v", err)
	}
	var out strings.Builder
	if err := rs.Run(ctx, wire.ShellCmd, "echo while A is away", func(p []byte) { out.Write(p) }); err != nil || !strings.Contains(out.String(), "while A is away") {
		t.Fatalf("a command from B: %v, output %q", err, out.String())
	}
	rs.Close()
	release()

	startEnv(t, r.a.st, r.clock, Options{HubClient: r.h.Client, TeamLeaseTTL: 2 * time.Second})
	coretest.Receive(t, r.up, "the PC's channel back at A")
	waitAudit(t, r.a.st, "Bea Tech", "A's audit of B's connect while it was offline")
}

// takeoverRig is two real stations A and B of team acme at a real hub with
// its team server, and a PC paired at A holding its live channel through
// the hub with A's relay token (the real agent client and channel code).
type takeoverRig struct {
	h      *hubtest.Hub
	clock  *coretest.Clock
	a, b   *teamStation
	sess   core.Session
	paired wire.PairResponse
	key    string
	up     <-chan *yamux.Session // each channel the PC holds, in turn
}

func newTakeoverRig(t *testing.T) *takeoverRig {
	t.Helper()
	h, clock := teamRig(t)
	a := joinTeamStation(t, h, clock, h.TeamCode("acme"))
	b := joinTeamStation(t, h, clock, h.TeamCode("acme"))
	inTeam := func(s TeamState) bool { return s.Team == "acme" && s.Connected }
	waitFor(t, a.states, "A in team", inTeam)
	waitFor(t, b.states, "B in team", inTeam)
	waitFor(t, b.hub, "B's hub link up", func(s HubState) bool { return s.Connected })
	if _, err := b.st.CreateProfile(t.Context(), "Bea Tech", "bea@example.org"); err != nil {
		t.Fatal(err)
	}

	sess, paired := pairAt(t, a, "Anna Tech", "anna@example.org")
	key := strconv.FormatInt(sess.ID, 10)
	rel, ok, err := a.st.RelayToken(t.Context(), sess.ID, sess.ExpiresAt)
	if err != nil || !ok {
		t.Fatalf("A's relay token: %v %v", ok, err)
	}
	// The PC pins A only; it learns B's pin from A's 101 (wire.TeamPinsHeader).
	c, err := support.NewClientVia("https://station.invalid:8443", a.env.srv.Pins(), &support.Hub{URL: rel.URL, Token: rel.Token, HTTPClient: h.Client})
	if err != nil {
		t.Fatal(err)
	}
	up := pcAt(t, c, paired.AgentKey, paired.Password)
	coretest.Receive(t, up, "the PC's channel to A")
	waitThroughHub(t, a.env.srv, sess.ID, "A to hold the PC's channel through the hub")
	waitFor(t, b.lists, "A's session on B", func(l []TeamSession) bool { return len(l) == 1 && l[0].Session == key })

	return &takeoverRig{h: h, clock: clock, a: a, b: b, sess: sess, paired: paired, key: key, up: up}
}

// pairAt prepares a session at ts and pairs a PC with it through ts's own
// pairing service, as activeSessionAt, and returns the PC's pairing answer
// too (its agent key and account password).
func pairAt(t *testing.T, ts *teamStation, name, email string) (core.Session, wire.PairResponse) {
	t.Helper()
	prep, err := prepareAs(ts.st, t.Context(), name, email)
	if err != nil {
		t.Fatal(err)
	}
	r := ts.env.post("/api/v1/pair", pairBody(prep.Session.Token, prep.Code))
	var resp wire.PairResponse
	if r.status != http.StatusOK || json.Unmarshal(r.body, &resp) != nil || resp.AgentKey == "" {
		t.Fatalf("pair: %d %s", r.status, r.body)
	}
	s, err := ts.st.Session(t.Context(), prep.Session.ID)
	if err != nil || s.State != core.StateActive {
		t.Fatalf("after pairing: %v %v", s.State, err)
	}
	return s, resp
}

// waitAudit waits until st's audit has a row mentioning want.
func waitAudit(t *testing.T, st *core.Station, want, what string) {
	t.Helper()
	deadline := time.Now().Add(coretest.WaitLimit)
	for {
		rows, err := st.Audit(t.Context(), core.AuditFilter{Search: want})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", coretest.WaitLimit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitClosed(t *testing.T, ys *yamux.Session, what string) {
	t.Helper()
	select {
	case <-ys.CloseChan():
	case <-time.After(coretest.WaitLimit):
		t.Fatalf("waited %v for %s", coretest.WaitLimit, what)
	}
}

// TestTakeoverSurvivesHubRestart: the hub keeps takeovers in memory only,
// so B asks for them again when its link comes back; the PC, redialling
// after the restart, comes back to B (even if it reached A first: a
// takeover new to the hub cuts the owner's relay), and B signs in again.
func TestTakeoverSurvivesHubRestart(t *testing.T) {
	r := newTakeoverRig(t)
	a, b, sess, paired, up := r.a, r.b, r.sess, r.paired, r.up
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	open, release, err := b.env.srv.TakeOver(ctx, a.id, sess.ID)
	if err != nil {
		t.Fatalf("B's takeover: %v", err)
	}
	defer release()
	coretest.Receive(t, up, "the PC's channel to B")
	l := b.env.srv.TeamSessions()[0]
	target := core.TeamTarget{Owner: a.id, OwnerName: l.StationName, Session: sess.ID, Computer: l.Computer, PreparedBy: l.PreparedBy}
	rs, err := b.st.ConnectTeam(ctx, target, open, paired.Password)
	if err != nil {
		t.Fatal(err)
	}
	rs.Close()

	restarted := r.h.Restart()
	// B's link comes back and asks again; the PC comes back to B. Signing
	// in is what shows it: only B's channel opens streams for B.
	var rs2 *remote.RemoteSession
	deadline := time.Now().Add(coretest.WaitLimit)
	for {
		if rs2, err = b.st.ConnectTeam(ctx, target, open, paired.Password); err == nil {
			break
		}
		if !errors.Is(err, core.ErrPCOffline) || time.Now().After(deadline) {
			t.Fatalf("B signing in again after the hub restarted: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer rs2.Close()
	t.Logf("B signed in to the PC again %v after the hub restarted", time.Since(restarted))
	var out strings.Builder
	if err := rs2.Run(ctx, wire.ShellCmd, "echo still at B", func(p []byte) { out.Write(p) }); err != nil || !strings.Contains(out.String(), "still at B") {
		t.Fatalf("a command from B after the restart: %v, output %q", err, out.String())
	}
	if a.env.srv.ThroughHub(sess.ID) {
		t.Fatal("A holds the PC's channel while B's takeover stands")
	}
}
