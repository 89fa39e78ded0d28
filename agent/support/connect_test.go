//go:build !windows

package support_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/remote"
)

// TestConnectWithPassword: the technician connects over the live channel
// with a wrong, then the right password (the PC checks it against the
// hidden account); the tray hears who connected and left; connecting,
// asking for System and closing works three times in the same session;
// each attempt is audited.
func TestConnectWithPassword(t *testing.T) {
	r := waitingRig(t)
	ctx, id := context.Background(), r.prep.Session.ID

	_, err := r.st.Connect(ctx, id, coretest.Password+"x")
	var wrong *core.WrongPasswordError
	if !errors.As(err, &wrong) || wrong.TriesLeft != 4 || !strings.Contains(err.Error(), "4 tries left") {
		t.Fatalf("wrong password: %v; want WrongPasswordError with 4 tries left", err)
	}
	if !r.audited("remote sign-in refused", "wrong password") {
		t.Error("the wrong password is not audited")
	}
	for i := range 3 {
		rs, err := r.st.Connect(ctx, id, coretest.Password)
		if err != nil {
			t.Fatalf("connection %d with the right password: %v", i+1, err)
		}
		if rs.Computer != windowsPC.Hostname || rs.Technician != "Ana Tech" {
			t.Errorf("remote session %+v", rs)
		}
		r.waitTold("Ana Tech connected")
		first, err := rs.System(ctx)
		if err != nil || first.ComputerName != windowsPC.Hostname || first.Edition != "Windows 11 Pro" || len(first.Disks) != 1 {
			t.Fatalf("system information: %+v, %v", first, err)
		}
		again, err := rs.System(ctx)
		if err != nil || again.UptimeSec <= first.UptimeSec {
			t.Errorf("a refresh: uptime %d then %d (%v); want a fresh look", first.UptimeSec, again.UptimeSec, err)
		}
		rs.Close()
		if _, err := rs.System(ctx); !errors.Is(err, remote.ErrRemoteGone) {
			t.Errorf("a closed remote session answered: %v", err)
		}
		r.waitTold("Ana Tech left")
	}
	if !r.audited("remote sign-in", "Ana Tech signed in to DESKTOP-7QK2") {
		t.Error("the sign-in is not audited")
	}
	pcLog := r.log.String()
	if !strings.Contains(pcLog, "sign-in by Ana Tech refused: wrong password") || !strings.Contains(pcLog, "Ana Tech signed in as AdHocRemoteUser") ||
		!strings.Contains(pcLog, "Ana Tech left") || strings.Contains(pcLog, coretest.Password) {
		t.Errorf("the PC's log does not record each sign-in (or holds the password):\n%s", pcLog)
	}
	if calls, _, _, _, _ := r.rec.snapshot(); !containsCall(calls, "check password of AdHocRemoteUser") {
		t.Errorf("the PC never checked the password against the account: %q", calls)
	}
}

// TestConnectLockedAfterFiveWrong: five wrong passwords lock connecting
// for 5 minutes, even with the right one; after them it works again.
func TestConnectLockedAfterFiveWrong(t *testing.T) {
	r := waitingRig(t)
	ctx, id := context.Background(), r.prep.Session.ID
	for i := 1; i <= 4; i++ {
		if _, err := r.st.Connect(ctx, id, "not the password"); !errors.Is(err, core.ErrWrongPassword) {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	_, err := r.st.Connect(ctx, id, "not the password")
	if !errors.Is(err, core.ErrConnectLocked) || !strings.Contains(err.Error(), "5m0s") {
		t.Fatalf("fifth wrong password: %v; want locked for 5 minutes", err)
	}
	if !r.audited("remote sign-in refused", "locked for 5 minutes") {
		t.Error("the lock is not audited")
	}
	r.clock.Advance(4 * time.Minute)
	if _, err := r.st.Connect(ctx, id, coretest.Password); !errors.Is(err, core.ErrConnectLocked) {
		t.Fatalf("right password while locked: %v; want still locked", err)
	}
	r.clock.Advance(time.Minute)
	rs, err := r.st.Connect(ctx, id, coretest.Password)
	if err != nil {
		t.Fatalf("after 5 minutes: %v", err)
	}
	rs.Close()
}

// TestRightPasswordResetsTheCount: a right password forgets the wrong ones
// before it, so 3 wrong, 1 right and 1 wrong leave 4 tries, not 1.
func TestRightPasswordResetsTheCount(t *testing.T) {
	r := waitingRig(t)
	ctx, id := context.Background(), r.prep.Session.ID
	for i := 1; i <= 3; i++ {
		if _, err := r.st.Connect(ctx, id, "not the password"); !errors.Is(err, core.ErrWrongPassword) {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	rs, err := r.st.Connect(ctx, id, coretest.Password)
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	rs.Close()
	_, err = r.st.Connect(ctx, id, "not the password")
	var wrong *core.WrongPasswordError
	if !errors.As(err, &wrong) || wrong.TriesLeft != core.MaxSignInTries-1 {
		t.Fatalf("a wrong password after a right one: %v; want %d tries left", err, core.MaxSignInTries-1)
	}
}

// TestConnectLockHoldsConcurrentTries: many wrong passwords at once
// (a script driving the station) reach the PC at most MaxSignInTries
// times: each try is checked against the lock and counted before the next
// is asked, instead of all passing the check while the first was still
// at the PC.
func TestConnectLockHoldsConcurrentTries(t *testing.T) {
	r := waitingRig(t)
	ctx, id := context.Background(), r.prep.Session.ID
	errs := make(chan error, 20)
	for range cap(errs) {
		go func() {
			_, err := r.st.Connect(ctx, id, "not the password")
			errs <- err
		}()
	}
	locked := 0
	for range cap(errs) {
		err := <-errs
		switch {
		case errors.Is(err, core.ErrConnectLocked):
			locked++
		case !errors.Is(err, core.ErrWrongPassword):
			t.Errorf("a try ended with %v", err)
		}
	}
	if n := r.passwordChecks(); n > core.MaxSignInTries || locked != cap(errs)-(core.MaxSignInTries-1) {
		t.Fatalf("%d tries at once: the PC checked %d passwords, %d were refused as locked; want at most %d checks", cap(errs), n, locked, core.MaxSignInTries)
	}
}

// TestConnectLockSurvivesRestart: five wrong passwords lock connecting,
// and a restarted station (the same data file) still refuses, with the
// time that is left, without asking the PC; once the 5 minutes are over
// the right password connects and the count starts again.
func TestConnectLockSurvivesRestart(t *testing.T) {
	r := waitingRig(t)
	ctx, id := context.Background(), r.prep.Session.ID
	for range core.MaxSignInTries {
		_, _ = r.st.Connect(ctx, id, "not the password")
	}
	r.clock.Advance(2 * time.Minute)
	r.restartStation()
	r.waitOnline(true)

	checks := r.passwordChecks()
	_, err := r.st.Connect(ctx, id, coretest.Password)
	if !errors.Is(err, core.ErrConnectLocked) || !strings.Contains(err.Error(), "Try again in 3m0s") {
		t.Fatalf("right password after a restart while locked: %v; want locked for 3 more minutes", err)
	}
	if r.passwordChecks() != checks {
		t.Error("a locked Connect still sent the password to the PC")
	}
	r.clock.Advance(3 * time.Minute)
	rs, err := r.st.Connect(ctx, id, coretest.Password)
	if err != nil {
		t.Fatalf("after 5 minutes: %v", err)
	}
	rs.Close()
	var wrong *core.WrongPasswordError
	if _, err := r.st.Connect(ctx, id, "not the password"); !errors.As(err, &wrong) || wrong.TriesLeft != 4 {
		t.Errorf("a wrong password after a right one: %v; want 4 tries left", err)
	}
}

// TestConnectAfterExpiry: the 24 hours run out; the PC is told on its
// channel and cleans up (account removed, receipt on the station), and
// Connect is refused with the sentence saying why; the wrong-password
// count of the closed session is gone from the station's file.
func TestConnectAfterExpiry(t *testing.T) {
	r := waitingRig(t)
	ctx, id := context.Background(), r.prep.Session.ID
	rs, err := r.st.Connect(ctx, id, coretest.Password)
	if err != nil {
		t.Fatal(err)
	}
	rs.Close()
	if _, err := r.st.Connect(ctx, id, "not the password"); !errors.Is(err, core.ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	if n := coretest.Rows(t, r.st, "signin_locks"); n != 1 {
		t.Fatalf("%d rows count wrong passwords; want 1", n)
	}
	r.clock.Advance(24*time.Hour + time.Minute)
	if err := r.st.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	r.checkCleanedUp(r.finished("nil, cleaned up after the channel said the session expired"))
	if !r.audited("cleanup receipt", "24 hours are over") {
		t.Error("no cleanup receipt on the station")
	}
	_, err = r.st.Connect(ctx, id, coretest.Password)
	if !errors.Is(err, core.ErrSessionEnded) || !strings.Contains(err.Error(), "This support session is over (ended or expired)") {
		t.Fatalf("Connect after expiry: %v; want ErrSessionEnded with its sentence", err)
	}
	if n := coretest.Rows(t, r.st, "signin_locks"); n != 0 {
		t.Errorf("%d rows still count wrong passwords of the expired session", n)
	}
}

// passwordChecks counts the PC's checks of a password so far.
func (r *rig) passwordChecks() int {
	calls, _, _, _, _ := r.rec.snapshot()
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, "check password of ") {
			n++
		}
	}
	return n
}

// TestConnectRefusals: an offline PC and an ended session are refused
// with their own sentence.
func TestConnectRefusals(t *testing.T) {
	r := waitingRig(t)
	ctx, id := context.Background(), r.prep.Session.ID
	r.srv.Close()
	r.waitOnline(false)
	if _, err := r.st.Connect(ctx, id, coretest.Password); !errors.Is(err, core.ErrPCOffline) {
		t.Fatalf("offline PC: %v; want ErrPCOffline", err)
	}
	if err := r.st.End(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := r.st.Connect(ctx, id, coretest.Password); !errors.Is(err, core.ErrSessionEnded) {
		t.Fatalf("ended session: %v; want ErrSessionEnded", err)
	}
}

// waitTold waits for the tray helper to be told text.
func (r *rig) waitTold(text string) {
	r.t.Helper()
	deadline := time.Now().Add(coretest.WaitLimit)
	for {
		_, _, told, _, _ := r.rec.snapshot()
		for _, m := range told {
			if m.Text == text {
				r.rec.forgetTold(text)
				return
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("waited %v for the tray to be told %q; told %+v", coretest.WaitLimit, text, told)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func containsCall(calls []string, want string) bool {
	for _, c := range calls {
		if c == want {
			return true
		}
	}
	return false
}
