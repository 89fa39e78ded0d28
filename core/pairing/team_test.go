package pairing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/refusal"
	"adhocstation/core/team"
	"adhocstation/hub/hubsrv"
	"adhocstation/hub/hubtest"
)

// teamStation is a real station (its own SQLite) with its pairing service,
// joined to the hub, and what its service reports of the team.
type teamStation struct {
	st     *core.Station
	env    *env
	id     string // its station id at the hub
	states chan TeamState
	lists  chan []TeamSession
	hub    chan HubState
}

func joinTeamStation(t *testing.T, h *hubtest.Hub, clock *coretest.Clock, code string) *teamStation {
	t.Helper()
	ts := &teamStation{states: make(chan TeamState, 256), lists: make(chan []TeamSession, 256), hub: make(chan HubState, 256)}
	ts.st = coretest.OpenWith(t, t.TempDir(), clock, nil)
	ts.env = startEnv(t, ts.st, clock, Options{HubClient: h.Client, TeamLeaseTTL: 2 * time.Second,
		OnTeamState: func(s TeamState) { ts.states <- s },
		OnTeamList:  func(l []TeamSession) { ts.lists <- l },
		OnHubState:  func(s HubState) { ts.hub <- s },
	})
	cfg, err := ts.st.JoinHub(t.Context(), h.Client, h.URL, code)
	if err != nil {
		t.Fatal(err)
	}
	ts.id = cfg.StationID
	return ts
}

// waitFor receives from ch until ok holds for a value, and returns it.
func waitFor[T any](t *testing.T, ch <-chan T, what string, ok func(T) bool) T {
	t.Helper()
	for {
		if v := coretest.Receive(t, ch, what); ok(v) {
			return v
		}
	}
}

func prepareAs(st *core.Station, ctx context.Context, name, email string) (core.Prepared, error) {
	p, err := st.CreateProfile(ctx, name, email)
	if err != nil {
		return core.Prepared{}, err
	}
	pw := coretest.PasswordFor(p.ID)
	return st.Prepare(ctx, core.PrepareRequest{ProfileID: p.ID, UserEmail: "user@example.com", Password: pw, Confirm: pw})
}

// TestTeamOfTwoStations: a real hub running its team server, two real
// stations (each its own SQLite and pairing service) enrolled in team acme
// (5 seats) with codes of adhoc-hub enrol -team acme. They join the team by
// themselves; A holds 4 seats, B gets the 5th and then the team's seat
// refusal; A's sessions appear in B's list of the other stations'
// sessions; revoking A through the admin socket cuts its relay link and
// its team connection, and it says why in plain words.
func TestTeamOfTwoStations(t *testing.T) {
	clock := coretest.NewClock(coretest.Start)
	h := hubtest.Start(t, clock.Now)
	h.StartTeam(map[string]int{"acme": 5})
	aln, err := h.Srv.ListenAdmin()
	if err != nil {
		t.Fatal(err)
	}
	actx, stopAdmin := context.WithCancel(context.Background())
	adminDone := make(chan error, 1)
	go func() { adminDone <- h.Srv.ServeAdmin(actx, aln) }()
	t.Cleanup(func() { stopAdmin(); <-adminDone })

	a := joinTeamStation(t, h, clock, h.TeamCode("acme"))
	b := joinTeamStation(t, h, clock, h.TeamCode("acme"))
	inTeam := func(s TeamState) bool { return s.Team == "acme" && s.Connected && s.Seats == 5 }
	waitFor(t, a.states, "A in team acme", inTeam)
	waitFor(t, b.states, "B in team acme", inTeam)
	if m, ok, err := a.st.TeamMembership(t.Context()); err != nil || !ok || m.Team != "acme" || m.Seats != 5 || len(m.Seed) == 0 || len(m.URLs) == 0 {
		t.Fatalf("A's stored team: %+v %v %v", m, ok, err)
	}

	ctx := t.Context()
	for i := range 4 {
		if _, err := prepareAs(a.st, ctx, fmt.Sprintf("Tech A%d", i), fmt.Sprintf("a%d@example.org", i)); err != nil {
			t.Fatalf("A's prepare %d: %v", i, err)
		}
	}
	// A's four sessions reach B's list of the other stations' sessions.
	got := waitFor(t, b.lists, "A's 4 sessions on B", func(l []TeamSession) bool { return len(l) == 4 })
	for _, s := range got {
		if s.Station != a.id || !strings.HasPrefix(s.PreparedBy, "Tech A") || !s.StationOnline || s.State == "" {
			t.Fatalf("B sees %+v, want A's (%s) sessions with who prepared them, online", s, a.id)
		}
	}
	if l := a.env.srv.TeamSessions(); len(l) != 0 {
		t.Fatalf("A lists its own sessions as another station's: %+v", l)
	}

	if _, err := prepareAs(b.st, ctx, "Tech B0", "b0@example.org"); err != nil {
		t.Fatalf("B's prepare for the 5th seat: %v", err)
	}
	_, err = prepareAs(b.st, ctx, "Tech B1", "b1@example.org")
	if !errors.Is(err, core.ErrNoSeat) {
		t.Fatalf("B's 6th prepare: %v, want the team's seat refusal", err)
	}
	if text, ok := refusal.Text(err); !ok || !strings.Contains(text, "All 5 seats of your team") {
		t.Fatalf("the seat refusal says %q", text)
	}
	waitFor(t, b.states, "B to see 5 of 5 held", func(s TeamState) bool { return s.Held == 5 })

	// Revoke A as adhoc-hub revoke does, through the running hub's admin socket.
	connected := func(id string) bool {
		cz, err := h.Team.NATS().Connz(nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cz.Conns {
			if c.Name == "station "+id {
				return true
			}
		}
		return false
	}
	if !connected(a.id) || !connected(b.id) {
		t.Fatal("the stations' team connections are not on the hub's team server")
	}
	revokeAt := time.Now()
	if err := hubsrv.AdminRevoke(h.Dir, a.id); err != nil {
		t.Fatal(err)
	}
	// The server closes the connection on the account update; a failsafe
	// deadline only, the time is logged (docs/TEAM.md).
	for deadline := time.Now().Add(10 * time.Second); connected(a.id); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("A's team connection is still open 10 s after the revocation")
		}
	}
	t.Logf("A's team connection cut %v after adhoc-hub revoke was sent", time.Since(revokeAt))
	if !connected(b.id) {
		t.Fatal("revoking A cut B")
	}
	revoked := waitFor(t, a.states, "A told it is revoked", func(s TeamState) bool { return s.Revoked })
	t.Logf("A's Settings say revoked %v after adhoc-hub revoke was sent", time.Since(revokeAt))
	if revoked.LastError != team.ErrRevoked.Error() {
		t.Fatalf("A's team says %q", revoked.LastError)
	}
	// The control connection is closed ("station revoked"), and the redial
	// is refused with the hub's sentence saying what to do.
	hs := waitFor(t, a.hub, "A's relay link refused", func(s HubState) bool { return !s.Connected && strings.Contains(s.LastError, "adhoc-hub enrol") })
	if !strings.Contains(hs.LastError, "revoked this station") {
		t.Fatalf("A's hub link says %q", hs.LastError)
	}
	if h.Srv.Online(a.id) {
		t.Fatal("the hub still holds A's control connection")
	}
	if err := hubsrv.AdminRevoke(h.Dir, "nosuchstation"); err == nil || !strings.Contains(err.Error(), "no station") {
		t.Fatalf("revoking an unknown station: %v", err)
	}
	// A's leases are no longer renewed: B sees A offline and its seats free
	// within the lease TTL, and takes one.
	waitFor(t, b.states, "A's seats freed", func(s TeamState) bool { return s.Held == 1 })
	if _, err := prepareAs(b.st, ctx, "Tech B2", "b2@example.org"); err != nil {
		t.Fatalf("B's prepare after A was cut: %v", err)
	}
	// A works alone now on its own seats.
	if _, err := prepareAs(a.st, ctx, "Tech A9", "a9@example.org"); err != nil && !errors.Is(err, core.ErrNoSeat) {
		t.Fatalf("A's prepare after its revocation: %v", err)
	}
}

// TestNoTeamKeepsTodaysBehaviour: a station enrolled without -team at a hub
// running a team server gets "no team" and runs no team client; its
// prepares use its own seats only.
func TestNoTeamKeepsTodaysBehaviour(t *testing.T) {
	clock := coretest.NewClock(coretest.Start)
	h := hubtest.Start(t, clock.Now)
	h.StartTeam(map[string]int{"acme": 1})
	s := joinTeamStation(t, h, clock, h.Code())
	waitFor(t, s.hub, "the link up", func(st HubState) bool { return st.Connected })
	for i := range 2 { // 2 > the team's 1 seat: no team is asked
		if _, err := prepareAs(s.st, t.Context(), fmt.Sprintf("Tech %d", i), fmt.Sprintf("t%d@example.org", i)); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.env.srv.TeamState(); st != (TeamState{}) {
		t.Fatalf("team state %+v for a station of no team", st)
	}
	if _, ok, _ := s.st.TeamMembership(t.Context()); ok {
		t.Fatal("a team was stored for a station of no team")
	}
}

// TestTeamStartsOfflineOnKnownShare: a station that learned its team (2
// seats, itself the only station online) keeps it sealed; started again
// with the hub and its team server down, it is in its team at once, on its
// offline share: 2 prepares, then the offline seat refusal. Leaving the hub
// (cancelling the 2 invitations, whose link leads to it) forgets the team
// and the station prepares on its own seats again, past the share.
func TestTeamStartsOfflineOnKnownShare(t *testing.T) {
	clock := coretest.NewClock(coretest.Start)
	h := hubtest.Start(t, clock.Now)
	h.StartTeam(map[string]int{"acme": 2})
	s := joinTeamStation(t, h, clock, h.TeamCode("acme"))
	waitFor(t, s.states, "in team acme", func(st TeamState) bool { return st.Team == "acme" && st.Connected && st.Seats == 2 })
	s.env.srv.Close()
	h.Stop()
	h.Team.Shutdown()

	states := make(chan TeamState, 64)
	startEnv(t, s.st, clock, Options{HubClient: h.Client, TeamLeaseTTL: 2 * time.Second, OnTeamState: func(st TeamState) { states <- st }})
	st := waitFor(t, states, "the team, offline", func(st TeamState) bool { return st.Team == "acme" })
	if st.Connected || st.Seats != 2 || !strings.Contains(st.LastError, "share of the team's seats (2)") {
		t.Fatalf("started with the hub down: %+v", st)
	}
	for i := range 2 {
		if _, err := prepareAs(s.st, t.Context(), fmt.Sprintf("Tech %d", i), fmt.Sprintf("t%d@example.org", i)); err != nil {
			t.Fatalf("prepare %d within the share: %v", i, err)
		}
	}
	_, err := prepareAs(s.st, t.Context(), "Tech 2", "t2@example.org")
	if text, _ := refusal.Text(err); !errors.Is(err, core.ErrNoSeat) || !strings.Contains(text, "hub is unreachable") {
		t.Fatalf("past the share: %v", err)
	}

	// The two invitations link to the hub: leaving cancels them first.
	if end, err := s.st.LeaveHubEndingSessions(t.Context(), 0); err != nil || len(end.Cancelled) != 2 {
		t.Fatalf("leaving the hub: %v (cancelled %d invitations)", err, len(end.Cancelled))
	}
	waitFor(t, states, "the team left", func(st TeamState) bool { return st == TeamState{} })
	if _, ok, _ := s.st.TeamMembership(t.Context()); ok {
		t.Fatal("the team is still stored after leaving the hub")
	}
	for i := 3; i < 6; i++ { // more than the team's share of 2
		if _, err := prepareAs(s.st, t.Context(), fmt.Sprintf("Tech %d", i), fmt.Sprintf("t%d@example.org", i)); err != nil {
			t.Fatalf("prepare %d on the station's own seats after leaving: %v", i, err)
		}
	}
}
