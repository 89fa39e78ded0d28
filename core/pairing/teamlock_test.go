package pairing

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/hublink"
)

// The wrong-password lock of a taking station (ConnectTeam) on its SQLite
// file: kept across a restart, cleared by a right password, one try at a
// time per session of the other station, old rows deleted. The rig is
// TestTakeoverChannelWithoutLocalSession's: B's real relay handling with a
// takeover's control message, real TLS, the real agent code on the channel.

const lockOwner, lockSession = "station-a-id", int64(12)

var lockTarget = core.TeamTarget{Owner: lockOwner, Session: lockSession, Computer: "DESKTOP-7QK2", PreparedBy: "Anna Tech"}

// countingPC is the PC's password check, counted.
type countingPC struct {
	takeoverPC
	checks atomic.Int32
}

func (p *countingPC) CheckPassword(name, password string) (support.Logon, error) {
	p.checks.Add(1)
	return p.takeoverPC.CheckPassword(name, password)
}

// takenOver registers a takeover of A's session lockSession at b and
// returns it once the PC's channel came through b's relay handling, with
// the real agent code serving it and checking coretest.Password.
func takenOver(t *testing.T, b *env) (*takeoverSlot, *countingPC) {
	t.Helper()
	url := serveAsRelays(t, b.srv, hublink.ControlMessage{Type: "accept", RelayID: "r1", Session: strconv.FormatInt(lockSession, 10), Owner: lockOwner})
	c, err := support.NewClient(url, b.srv.Pins())
	if err != nil {
		t.Fatal(err)
	}
	k := takeoverKey{owner: lockOwner, session: lockSession}
	slot, ok := b.srv.taken.open(k)
	if !ok {
		t.Fatal("the takeover could not be registered")
	}
	t.Cleanup(func() { b.srv.taken.close(k, slot) })
	ys, _, err := c.OpenChannel(t.Context(), "A's agent key, unknown at B", support.ChannelTiming{})
	if err != nil || ys == nil {
		t.Fatalf("the takeover's channel: %v", err)
	}
	t.Cleanup(func() { ys.Close() })
	coretest.Await(t, slot.came, "the PC's channel to reach the takeover")
	pc := &countingPC{takeoverPC: takeoverPC{password: coretest.Password}}
	go (&support.App{Sys: pc, UI: takeoverTray{}}).ServeChannel(ys, "Anna Tech")
	return slot, pc
}

// takerStation is station B on dir with its technician and pairing service.
func takerStation(t *testing.T, dir string, clock *coretest.Clock) *env {
	t.Helper()
	st := coretest.OpenWith(t, dir, clock, nil)
	if ps, err := st.Profiles(t.Context()); err != nil || len(ps) == 0 {
		if _, err := st.CreateProfile(t.Context(), "Bea Tech", "bea@example.org"); err != nil {
			t.Fatal(err)
		}
	}
	return startEnv(t, st, clock, Options{})
}

// wantTriesLeft fails unless err is a wrong password with left tries left.
func wantTriesLeft(t *testing.T, err error, left int, what string) {
	t.Helper()
	var wrong *core.WrongPasswordError
	if !errors.As(err, &wrong) || wrong.TriesLeft != left {
		t.Fatalf("%s: %v; want a wrong password with %d tries left", what, err, left)
	}
}

// TestTeamSignInLockSurvivesRestart: five wrong passwords at B lock
// connecting to A's session; B restarted on the same SQLite file still
// refuses, with the time left and without asking the PC, until the 5
// minutes are over; then the count starts again, and a right password
// clears it (its row is gone).
func TestTeamSignInLockSurvivesRestart(t *testing.T) {
	ctx, dir := t.Context(), t.TempDir()
	clock := coretest.NewClock(coretest.Start)
	b := takerStation(t, dir, clock)
	slot, _ := takenOver(t, b)
	for i := 1; i < core.MaxSignInTries; i++ {
		_, err := b.st.ConnectTeam(ctx, lockTarget, slot, "not the password")
		wantTriesLeft(t, err, core.MaxSignInTries-i, "wrong password "+strconv.Itoa(i))
	}
	if _, err := b.st.ConnectTeam(ctx, lockTarget, slot, "not the password"); !errors.Is(err, core.ErrConnectLocked) || !strings.Contains(err.Error(), "5m0s") {
		t.Fatalf("the 5th wrong password: %v; want locked for 5 minutes", err)
	}
	if n := coretest.Rows(t, b.st, "team_signin_locks"); n != 1 {
		t.Fatalf("%d rows hold the lock in B's file; want 1", n)
	}

	// B restarts on the same folder, 2 minutes into the lock.
	clock.Advance(2 * time.Minute)
	b.srv.Close()
	b.st.Close()
	b = takerStation(t, dir, clock)
	slot, pc := takenOver(t, b)
	_, err := b.st.ConnectTeam(ctx, lockTarget, slot, coretest.Password)
	if !errors.Is(err, core.ErrConnectLocked) || !strings.Contains(err.Error(), "Try again in 3m0s") {
		t.Fatalf("the right password at restarted B while locked: %v; want locked for 3 more minutes", err)
	}
	if n := pc.checks.Load(); n != 0 {
		t.Errorf("a locked try at restarted B reached the PC (%d password checks)", n)
	}
	auditHas(t, b.st, "team remote sign-in refused", "for the 5th time: connecting is locked for 5 minutes")

	// The lock ends; the count starts again, and a right password clears it.
	clock.Advance(3 * time.Minute)
	_, err = b.st.ConnectTeam(ctx, lockTarget, slot, "not the password")
	wantTriesLeft(t, err, core.MaxSignInTries-1, "a wrong password after the lock")
	_, err = b.st.ConnectTeam(ctx, lockTarget, slot, "not the password")
	wantTriesLeft(t, err, core.MaxSignInTries-2, "a second wrong password after the lock")
	rs, err := b.st.ConnectTeam(ctx, lockTarget, slot, coretest.Password)
	if err != nil {
		t.Fatalf("the right password after the lock: %v", err)
	}
	rs.Close()
	if err := b.st.WaitRemoteClosed(ctx); err != nil {
		t.Fatal(err)
	}
	if n := coretest.Rows(t, b.st, "team_signin_locks"); n != 0 {
		t.Errorf("%d rows still count wrong passwords after a right one", n)
	}
	_, err = b.st.ConnectTeam(ctx, lockTarget, slot, "not the password")
	wantTriesLeft(t, err, core.MaxSignInTries-1, "a wrong password after a right one")
}

// TestTeamSignInLockHoldsConcurrentTries: many wrong passwords at once for
// the same session of A reach the PC at most MaxSignInTries times; each is
// checked against the lock and counted before the next is asked.
func TestTeamSignInLockHoldsConcurrentTries(t *testing.T) {
	b := newEnv(t)
	if _, err := b.st.CreateProfile(t.Context(), "Bea Tech", "bea@example.org"); err != nil {
		t.Fatal(err)
	}
	slot, pc := takenOver(t, b)
	const tries = 20
	var wg sync.WaitGroup
	var wrong, locked atomic.Int32
	for range tries {
		wg.Go(func() {
			_, err := b.st.ConnectTeam(t.Context(), lockTarget, slot, "not the password")
			switch {
			case errors.Is(err, core.ErrConnectLocked):
				locked.Add(1)
			case errors.Is(err, core.ErrWrongPassword):
				wrong.Add(1)
			default:
				t.Errorf("a try ended with %v", err)
			}
		})
	}
	wg.Wait()
	if n := pc.checks.Load(); n > core.MaxSignInTries || wrong.Load() != core.MaxSignInTries-1 || locked.Load() != tries-(core.MaxSignInTries-1) {
		t.Fatalf("%d tries at once: the PC checked %d passwords, %d were refused as wrong and %d as locked; want at most %d checks, %d wrong",
			tries, n, wrong.Load(), locked.Load(), core.MaxSignInTries, core.MaxSignInTries-1)
	}
}

// TestTeamSignInLocksOfEndedSessionsDeleted: a wrong password written at B
// deletes the rows of sessions whose last wrong password is older than a
// session's life plus the lock (they can no longer matter) and keeps the
// younger ones, among them a lock still running on a row first written
// more than that ago.
func TestTeamSignInLocksOfEndedSessionsDeleted(t *testing.T) {
	ctx := t.Context()
	b := newEnv(t)
	if _, err := b.st.CreateProfile(ctx, "Bea Tech", "bea@example.org"); err != nil {
		t.Fatal(err)
	}
	slot, _ := takenOver(t, b)
	of := func(session int64) core.TeamTarget {
		target := lockTarget
		target.Session = session
		return target
	}
	wrongFor := func(session int64) error {
		_, err := b.st.ConnectTeam(ctx, of(session), slot, "not the password")
		return err
	}
	rows := func() int { return coretest.Rows(t, b.st, "team_signin_locks") }
	age := core.SessionLength + core.SignInLock
	start := b.clock.Now()
	wantTriesLeft(t, wrongFor(12), core.MaxSignInTries-1, "session 12")
	wantTriesLeft(t, wrongFor(15), core.MaxSignInTries-1, "session 15")
	b.clock.Advance(time.Hour)
	wantTriesLeft(t, wrongFor(13), core.MaxSignInTries-1, "session 13")
	// Session 15's count goes on near the end of its life and locks.
	b.clock.Advance(start.Add(age - time.Minute).Sub(b.clock.Now()))
	for i := 2; i <= core.MaxSignInTries; i++ {
		err := wrongFor(15)
		if i == core.MaxSignInTries && !errors.Is(err, core.ErrConnectLocked) {
			t.Fatalf("the 5th wrong password for session 15: %v; want locked", err)
		}
	}
	b.clock.Advance(time.Minute)
	wantTriesLeft(t, wrongFor(14), core.MaxSignInTries-1, "session 14")
	if n := rows(); n != 4 {
		t.Fatalf("%d rows with session 12's just a session's life plus the lock old; want all 4 kept", n)
	}
	b.clock.Advance(time.Millisecond)
	wantTriesLeft(t, wrongFor(14), core.MaxSignInTries-2, "session 14 again")
	if n := rows(); n != 3 {
		t.Fatalf("%d rows after session 12's got older than a session's life plus the lock; want 3 (13, 14, 15)", n)
	}
	if _, err := b.st.ConnectTeam(ctx, of(15), slot, coretest.Password); !errors.Is(err, core.ErrConnectLocked) {
		t.Fatalf("session 15 after the deletion: %v; want still locked", err)
	}
	// Session 12's count is gone with its row: a new wrong password is the first.
	wantTriesLeft(t, wrongFor(12), core.MaxSignInTries-1, "session 12 a day later")
}
