package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/team"
	hubteam "adhocstation/hub/team"

	"github.com/nats-io/nkeys"
)

// teamMember joins a station to the team on srv; changed is poked at every
// change the team's watch shows.
func teamMember(t *testing.T, srv *hubteam.Server, id string) (*team.Client, <-chan struct{}) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	upub, _ := kp.PublicKey()
	changed := make(chan struct{}, 1)
	c, err := team.Open(t.Context(), team.Config{
		URLs: []string{srv.ClientURL()}, TeamID: "acme", StationID: id, UserSeed: seed,
		JWT: func() (string, error) { return srv.IssueUser("acme", id, upub, time.Hour) },
		OnChange: func([]team.Entry) {
			select {
			case changed <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, changed
}

// TestPrepareClaimsTeamSeat: two real stations (SQLite) in one team with a
// single seat on an embedded hub. The first station's session shows in the
// second's team list with who prepared it and its state. The second station's prepare gets the
// seat refusal (and, for the same technician, the profile refusal), keeps
// no session row and audits the refusal; once the first station's session
// is cancelled its seat comes free, its line leaves the list, and the
// second station prepares.
func TestPrepareClaimsTeamSeat(t *testing.T) {
	dir := t.TempDir()
	keys, err := hubteam.LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := hubteam.Start(hubteam.Config{StateDir: dir, Port: -1}, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	if err := srv.EnsureTeam(t.Context(), "acme", 1); err != nil {
		t.Fatal(err)
	}
	a, _ := coretest.Open(t)
	b, _ := coretest.Open(t)
	ta, _ := teamMember(t, srv, "kiosk")
	tb, bChanged := teamMember(t, srv, "desk")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if err := a.UseSeatPool(ctx, ta); err != nil {
		t.Fatal(err)
	}
	if err := b.UseSeatPool(ctx, tb); err != nil {
		t.Fatal(err)
	}
	_, prepA := coretest.MustPrepare(t, a, "Anna", "anna@example.org")
	// The desk's team list shows the kiosk's session, who prepared it and its state.
	kioskSession := func() (team.Entry, bool) {
		for _, e := range tb.List() {
			if e.Station == "kiosk" && e.Session == core.TeamKey(prepA.Session.ID) {
				return e, true
			}
		}
		return team.Entry{}, false
	}
	waitTeam(t, bChanged, "the kiosk's session in the desk's list", func() bool {
		e, ok := kioskSession()
		return ok && e.PreparedBy == "Anna" && e.State == "prepared" && e.StationOnline && !e.PCOnline
	})

	prepare := func(name, email string) (core.Prepared, error) {
		p, err := b.CreateProfile(t.Context(), name, email)
		if err != nil && !errors.Is(err, core.ErrProfileExists) {
			t.Fatal(err)
		}
		if err != nil {
			ps, _ := b.Profiles(t.Context())
			for _, q := range ps {
				if strings.EqualFold(q.Email, email) {
					p = q
				}
			}
		}
		pw := coretest.PasswordFor(p.ID)
		return b.Prepare(t.Context(), core.PrepareRequest{ProfileID: p.ID, UserEmail: "user@example.com", Password: pw, Confirm: pw})
	}
	if _, err := prepare("Anna at the desk", "Anna@Example.org"); !errors.Is(err, core.ErrProfileBusy) {
		t.Fatalf("the same technician at another station: %v, want the profile refusal", err)
	}
	_, err = prepare("Bob", "bob@example.org")
	if !errors.Is(err, core.ErrNoSeat) {
		t.Fatalf("prepare with the team's only seat taken: %v, want the seat refusal", err)
	}
	if text, ok := core.RefusalText(err); !ok || !strings.Contains(text, "seats of your team are in use") {
		t.Fatalf("the refusal reads %q", text)
	}
	if n := coretest.Rows(t, b, "sessions"); n != 0 {
		t.Fatalf("the refused prepare left %d session rows", n)
	}
	audit, err := b.Audit(t.Context(), core.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range audit {
		if e.Event == "prepare refused" && strings.Contains(e.Detail, "by the team") {
			found = true
		}
	}
	if !found {
		t.Fatalf("the team's refusal is not in the audit: %+v", audit)
	}

	if err := a.Cancel(t.Context(), prepA.Session.ID); err != nil {
		t.Fatal(err)
	}
	waitTeam(t, bChanged, "the cancelled session's seat free and its line gone", func() bool {
		_, held := tb.Seats()
		_, listed := kioskSession()
		return held == 0 && !listed
	})
	if _, err := prepare("Bob", "bob@example.org"); err != nil {
		t.Fatalf("prepare after the seat came free: %v", err)
	}
}

// waitTeam waits on the team watch's changes (no sleeps) until cond holds.
func waitTeam(t *testing.T, changed <-chan struct{}, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second) // failsafe, not a measure
	for !cond() {
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("never saw %s", what)
		}
	}
}
