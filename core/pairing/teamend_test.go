package pairing

import (
	"context"
	"errors"
	"net/http"
	"strconv"
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

// teamRig is a real hub with its team server (acme, 5 seats) and its admin
// socket, as adhoc-hub runs them.
func teamRig(t *testing.T) (*hubtest.Hub, *coretest.Clock) {
	t.Helper()
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
	return h, clock
}

// activeSessionAt prepares a session at ts and pairs a PC with it through
// ts's own pairing service, so it is active (a PC with its account).
func activeSessionAt(t *testing.T, ts *teamStation, name, email string) core.Session {
	t.Helper()
	prep, err := prepareAs(ts.st, t.Context(), name, email)
	if err != nil {
		t.Fatal(err)
	}
	if r := ts.env.post("/api/v1/pair", pairBody(prep.Session.Token, prep.Code)); r.status != http.StatusOK {
		t.Fatalf("pair: %d %s", r.status, r.body)
	}
	s, err := ts.st.Session(t.Context(), prep.Session.ID)
	if err != nil || s.State != core.StateActive {
		t.Fatalf("after pairing: %v %v", s.State, err)
	}
	return s
}

// waitEnded receives A's events until session id is ended.
func waitEnded(t *testing.T, sub *core.Subscription, id int64) {
	t.Helper()
	for {
		e := coretest.Receive(t, sub.C, "the session ended at the owner")
		if e.SessionID == id && e.Kind == core.EventEnded {
			return
		}
	}
}

func auditHas(t *testing.T, st *core.Station, event, want string) {
	t.Helper()
	rows, err := st.Audit(t.Context(), core.AuditFilter{Search: want})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Event == event && strings.Contains(r.Detail, want) {
			return
		}
	}
	t.Fatalf("no audit %q with %q in %+v", event, want, rows)
}

// TestEndFromAnotherStation: B ends a session that A (another station of
// the team) runs, through the team: A ends it as its own End session now
// (state ended, the PC's account removed at its next check-in, the seat and
// the line freed), and both audits say so.
func TestEndFromAnotherStation(t *testing.T) {
	h, clock := teamRig(t)
	a := joinTeamStation(t, h, clock, h.TeamCode("acme"))
	b := joinTeamStation(t, h, clock, h.TeamCode("acme"))
	inTeam := func(s TeamState) bool { return s.Team == "acme" && s.Connected }
	waitFor(t, a.states, "A in team", inTeam)
	waitFor(t, b.states, "B in team", inTeam)

	sess := activeSessionAt(t, a, "Anna Tech", "anna@example.org")
	key := strconv.FormatInt(sess.ID, 10)
	waitFor(t, b.lists, "A's session on B", func(l []TeamSession) bool { return len(l) == 1 && l[0].Session == key })
	sub := a.st.Subscribe()
	defer sub.Close()

	asked := time.Now()
	online, err := b.env.srv.RequestTeamEnd(t.Context(), a.id, key, "Anna Tech", "Bea Tech")
	if err != nil || !online {
		t.Fatalf("B's request: online %v, %v", online, err)
	}
	waitEnded(t, sub, sess.ID)
	t.Logf("A ended the session %v after B asked (request, B's audit, A's watch, A's end)", time.Since(asked))
	got, err := a.st.Session(t.Context(), sess.ID)
	if err != nil || got.State != core.StateEnded {
		t.Fatalf("A's session: %v %v", got.State, err)
	}
	want := "ended at the request of station " + b.id + " (technician Bea Tech)"
	if got.CloseReason != want {
		t.Fatalf("A's close reason %q, want %q", got.CloseReason, want)
	}
	auditHas(t, a.st, "session ended", want)
	auditHas(t, b.st, "team end requested", "asked station "+a.id+" to end its session "+key+" (prepared by Anna Tech) for technician Bea Tech")
	// The line leaves B's list (A released the session in the team).
	waitFor(t, b.lists, "A's line gone from B", func(l []TeamSession) bool { return len(l) == 0 })
	// A deleted the request once done: a second one is a fresh request,
	// which A drops (the session is no longer open) without ending anything.
	if _, err := b.env.srv.RequestTeamEnd(t.Context(), a.id, key, "Anna Tech", "Bea Tech"); err != nil {
		t.Fatalf("a second request: %v", err)
	}
}

// TestEndRequestWaitsForOfflineStation: A is offline; B's request is kept
// by the team and B is told A is offline; C's request for another of A's
// sessions is withdrawn by C's revocation. When A comes back, it ends the
// session B asked for, and not the one C asked for.
func TestEndRequestWaitsForOfflineStation(t *testing.T) {
	h, clock := teamRig(t)
	a := joinTeamStation(t, h, clock, h.TeamCode("acme"))
	b := joinTeamStation(t, h, clock, h.TeamCode("acme"))
	c := joinTeamStation(t, h, clock, h.TeamCode("acme"))
	inTeam := func(s TeamState) bool { return s.Team == "acme" && s.Connected }
	for _, s := range []*teamStation{a, b, c} {
		waitFor(t, s.states, "in team", inTeam)
	}
	s1 := activeSessionAt(t, a, "Anna Tech", "anna@example.org")
	s2 := activeSessionAt(t, a, "Otto Tech", "otto@example.org")
	k1, k2 := strconv.FormatInt(s1.ID, 10), strconv.FormatInt(s2.ID, 10)
	waitFor(t, c.lists, "A's 2 sessions on C", func(l []TeamSession) bool { return len(l) == 2 })

	// A stops (its service closed: no team connection, its presence runs
	// out within the lease TTL; its SQLite stays).
	a.env.srv.Close()
	offline := func(l []TeamSession) bool {
		return len(l) == 2 && !l[0].StationOnline && !l[1].StationOnline
	}
	waitFor(t, b.lists, "A offline on B", offline)
	waitFor(t, c.lists, "A offline on C", offline)

	// C asks first: A acts on requests one by one in the bucket's order,
	// so had C's request survived, s2 would be ended before s1.
	if _, err := c.env.srv.RequestTeamEnd(t.Context(), a.id, k2, "Otto Tech", "Carl Tech"); err != nil {
		t.Fatalf("C's request: %v", err)
	}
	online, err := b.env.srv.RequestTeamEnd(t.Context(), a.id, k1, "Anna Tech", "Bea Tech")
	if err != nil || online {
		t.Fatalf("B's request with A offline: online %v, %v", online, err)
	}
	auditHas(t, b.st, "team end requested", "that station was offline: the session ends when it next connects")
	if err := hubsrv.AdminRevoke(h.Dir, c.id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c.states, "C revoked", func(s TeamState) bool { return s.Revoked })
	_, err = c.env.srv.RequestTeamEnd(t.Context(), a.id, k2, "Otto Tech", "Carl Tech")
	if !errors.Is(err, team.ErrRevoked) {
		t.Fatalf("a revoked station's request: %v, want the team_revoked refusal", err)
	}
	if text, ok := refusal.Text(err); !ok || !strings.Contains(text, "revoked") {
		t.Fatalf("the refusal says %q", text)
	}
	for _, id := range []int64{s1.ID, s2.ID} {
		if s, _ := a.st.Session(t.Context(), id); s.State != core.StateActive {
			t.Fatalf("session %d ended while A was offline: %v", id, s.State)
		}
	}

	// A comes back: it reads the waiting request and ends s1.
	sub := a.st.Subscribe()
	defer sub.Close()
	startEnv(t, a.st, clock, Options{HubClient: h.Client, TeamLeaseTTL: 2 * time.Second})
	waitEnded(t, sub, s1.ID)
	auditHas(t, a.st, "session ended", "ended at the request of station "+b.id+" (technician Bea Tech)")
	// C's request was withdrawn at its revocation, before A came back.
	if s, _ := a.st.Session(t.Context(), s2.ID); s.State != core.StateActive {
		t.Fatalf("the session a revoked station asked to end is %v, want still active", s.State)
	}
	waitFor(t, b.lists, "only s2 left on B", func(l []TeamSession) bool { return len(l) == 1 && l[0].Session == k2 })
}
