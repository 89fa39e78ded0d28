//go:build !windows

package support_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
)

func rightCode(right string) []string { return []string{right} }

func TestTechnicianEndsSession(t *testing.T) {
	r := waitingRig(t)
	if err := r.st.End(context.Background(), r.prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	r.agent.Advance(30 * time.Second) // the next heartbeat learns it
	r.checkCleanedUp(r.finished("nil, everything cleaned up"))
	if s := r.session(); s.State != core.StateEnded {
		t.Errorf("session %s, want ended", s.State)
	}
}

func TestUserEndsSession(t *testing.T) {
	r := waitingRig(t)
	r.rec.end <- struct{}{}
	r.checkCleanedUp(r.finished("nil, everything cleaned up"))
	if s := r.session(); s.State != core.StateEnded || !strings.Contains(s.CloseReason, "end user") {
		t.Errorf("session %s (%q), want ended by the end user", s.State, s.CloseReason)
	}
}

func TestPasswordPolicyRefusal(t *testing.T) {
	r := newRig(t, windowsPC, nil, rightCode)
	r.rec.createErr = support.ErrPasswordPolicy
	r.start()
	if err := r.finished("support.ErrRefused"); !errors.Is(err, support.ErrRefused) {
		t.Fatalf("Run = %v, want ErrRefused", err)
	}
	calls, _, told, accounts, hidden := r.rec.snapshot()
	if len(accounts) != 0 || len(hidden) != 0 || !strings.Contains(told[len(told)-1].Text, "password rules") {
		t.Errorf("accounts %v hidden %v told %+v: want nothing created and the password-rules message", accounts, hidden, told)
	}
	if !r.audited("cleanup receipt", "NERR_PasswordTooShort") {
		t.Error("the technician is not told why (no receipt naming the password policy)")
	}
	if s := r.session(); s.State != core.StateEnded {
		t.Errorf("session %s, want ended so the seat is free", s.State)
	}
	if calls[len(calls)-1] != "uninstall" {
		t.Errorf("calls %v: want the app removed", calls)
	}
}

func TestCodeBurnedThenCancel(t *testing.T) {
	r := newRig(t, windowsPC, nil, func(right string) []string {
		w := coretest.WrongCode(right)
		return []string{w, w, w, w, w}
	})
	r.start()
	if err := r.finished("support.ErrCancelled"); !errors.Is(err, support.ErrCancelled) {
		t.Fatalf("Run = %v, want ErrCancelled once the user gives up", err)
	}
	_, problems, _, accounts, _ := r.rec.snapshot()
	if len(accounts) != 0 || len(problems) != 6 || !strings.Contains(problems[4], "1 try left") ||
		!strings.Contains(problems[5], "no longer works") {
		t.Errorf("accounts %v problems %q: want 4..1 tries left, then burned", accounts, problems)
	}
}

func TestInvitationExpired(t *testing.T) {
	r := newRig(t, windowsPC, nil, rightCode)
	if err := r.st.Cancel(context.Background(), r.prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	r.start()
	if err := r.finished("support.ErrRefused"); !errors.Is(err, support.ErrRefused) {
		t.Fatalf("Run = %v, want ErrRefused", err)
	}
	_, _, told, _, _ := r.rec.snapshot()
	if !strings.Contains(told[len(told)-1].Text, "no longer valid") {
		t.Errorf("told %+v", told)
	}
}

func TestDeclinedConsentChangesNothing(t *testing.T) {
	r := newRig(t, windowsPC, nil, rightCode)
	r.rec.consent = false
	r.start()
	if err := r.finished("support.ErrCancelled"); !errors.Is(err, support.ErrCancelled) {
		t.Fatalf("Run = %v, want ErrCancelled", err)
	}
	calls, _, _, _, _ := r.rec.snapshot()
	if strings.Join(calls, ",") != "facts,consent" {
		t.Errorf("calls %v: nothing may happen after a refusal", calls)
	}
	if s := r.session(); s.State != core.StatePrepared {
		t.Errorf("session %s, want still prepared", s.State)
	}
}

// A killed app (or a restart) resumes from its state file and still cleans up.
func TestResumeAfterKill(t *testing.T) {
	r := waitingRig(t)
	r.cancel()
	if err := r.finished("context.Canceled"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(r.rec.stateDir, "session.json")); err != nil {
		t.Fatalf("no state file after a kill: %v", err)
	}
	r.start() // the same program file again, as autostart does after a restart
	r.waitStatus(support.TrayWaiting)
	r.clock.Advance(24 * time.Hour)
	if err := r.st.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.agent.Advance(24 * time.Hour)
	r.checkCleanedUp(r.finished("nil, everything cleaned up"))
	calls, _, _, _, _ := r.rec.snapshot()
	if n := strings.Count(strings.Join(calls, ","), "add "); n != 1 {
		t.Errorf("account created %d times, want once: %v", n, calls)
	}
}

// With the station gone the tray says so, the app keeps the expiry itself,
// and the account is still removed when the time is up.
func TestStationUnreachable(t *testing.T) {
	r := waitingRig(t)
	r.srv.Close()
	r.agent.Advance(30 * time.Second)
	r.waitStatus(support.TrayUnreachable)
	r.agent.Advance(24 * time.Hour)
	err := r.finishedAdvancing(5*time.Second, "once the retries are over")
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	calls, _, _, accounts, hidden := r.rec.snapshot()
	if len(accounts) != 0 || len(hidden) != 0 || calls[len(calls)-1] != "uninstall" {
		t.Errorf("accounts %v hidden %v calls %v: want everything removed offline", accounts, hidden, calls)
	}
	if r.audited("cleanup receipt", "") {
		t.Error("a receipt reached a closed station")
	}
}

func TestAlreadyPaired(t *testing.T) {
	r := newRig(t, windowsPC, nil, rightCode)
	other := core.PairRequest{Token: r.prep.Session.Token, Code: r.prep.Code, RemoteAddr: "192.0.2.7:5000",
		Facts: core.ComputerFacts{Hostname: "OTHER-PC", OSName: "Windows 10 Pro"}}
	if _, err := r.st.Pair(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	r.start()
	if err := r.finished("support.ErrRefused"); !errors.Is(err, support.ErrRefused) {
		t.Fatalf("Run = %v, want ErrRefused", err)
	}
	_, _, told, accounts, _ := r.rec.snapshot()
	if len(accounts) != 0 || !strings.Contains(told[len(told)-1].Text, "already been used") {
		t.Errorf("accounts %v told %+v", accounts, told)
	}
}

// A damaged session record still leads to the account's removal.
func TestDamagedRecordStillCleansUp(t *testing.T) {
	for name, record := range map[string]string{
		"not JSON": "{garbage",
		"no pins":  `{"station_url":"https://127.0.0.1:1","pins":[],"agent_key":"k","account":"AdHocRemoteUser"}`,
	} {
		t.Run(name, func(t *testing.T) {
			rec := newRecorder(t.TempDir(), []byte("MZ"), windowsPC)
			rec.accounts[support.AccountName] = &winAccount{Account: support.Account{Name: support.AccountName}, sid: "S-1-5-21-1-2-3-1000"}
			rec.hidden[support.AccountName] = true
			if err := os.WriteFile(filepath.Join(rec.stateDir, "session.json"), []byte(record), 0o600); err != nil {
				t.Fatal(err)
			}
			app := &support.App{Sys: rec, UI: rec, Clock: newFakeClock(time.Unix(0, 0))}
			if err := app.Run(context.Background()); err != nil {
				t.Fatalf("Run = %v", err)
			}
			calls, _, _, accounts, hidden := rec.snapshot()
			if len(accounts) != 0 || len(hidden) != 0 || calls[len(calls)-1] != "uninstall" {
				t.Errorf("accounts %v hidden %v calls %v", accounts, hidden, calls)
			}
		})
	}
}

// An app stopped while creating the account finishes by removing whatever
// was made and telling the station, instead of confirming an account that
// may not exist.
func TestResumeAfterInterruptedCreation(t *testing.T) {
	r := newRig(t, windowsPC, nil, rightCode)
	paired, err := r.st.Pair(context.Background(), core.PairRequest{Token: r.prep.Session.Token, Code: r.prep.Code,
		RemoteAddr: "127.0.0.1:5000", Facts: core.ComputerFacts{Hostname: "DESKTOP-7QK2", OSName: "Windows 11 Pro"}})
	if err != nil {
		t.Fatal(err)
	}
	record := support.State{StationURL: r.srv.URL(), Pins: r.srv.Pins(), AgentKey: paired.AgentKey,
		Account: support.AccountName, ExpiresAt: r.agent.Now().Add(24 * time.Hour)}
	b, _ := json.Marshal(record)
	if err := os.WriteFile(filepath.Join(r.rec.stateDir, "session.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	r.rec.accounts[support.AccountName] = &winAccount{Account: support.Account{Name: support.AccountName}, sid: "S-1-5-21-1-2-3-1000"} // half-made
	r.start()
	r.checkCleanedUp(r.finished("nil, everything cleaned up"))
	if s := r.session(); s.Computer.AccountReady {
		t.Error("the station was told the account is ready")
	}
	if !r.audited("cleanup receipt", "stopped while it created the account") {
		t.Error("the receipt does not say why")
	}
}
