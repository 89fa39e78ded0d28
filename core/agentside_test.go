package core_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

func TestPairRefusals(t *testing.T) {
	ctx := t.Context()
	t.Run("ErrInvalidCode", func(t *testing.T) {
		st, _ := coretest.Open(t)
		_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
		// Literal counts: a test computing them from MaxCodeAttempts would
		// follow a changed constant instead of catching it.
		for _, left := range []int{4, 3, 2, 1} {
			_, err := st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: coretest.WrongCode(prep.Code), RemoteAddr: "192.0.2.1:1", Facts: coretest.WindowsPC})
			var ce *core.CodeError
			if !errors.As(err, &ce) || ce.AttemptsLeft != left {
				t.Fatalf("err = %v, want %d tries left", err, left)
			}
		}
		t.Run("ErrCodeBurned", func(t *testing.T) {
			_, err := st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: coretest.WrongCode(prep.Code), RemoteAddr: "192.0.2.1:1", Facts: coretest.WindowsPC})
			if !errors.Is(err, core.ErrCodeBurned) {
				t.Fatalf("fifth wrong code: %v", err)
			}
			// Even the right code no longer works once burned.
			_, err = st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "192.0.2.1:1", Facts: coretest.WindowsPC})
			if !errors.Is(err, core.ErrCodeBurned) {
				t.Fatalf("right code after burn: %v", err)
			}
			code, err := st.RegenerateCode(ctx, prep.Session.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: code, RemoteAddr: "192.0.2.9:1", Facts: coretest.WindowsPC}); err != nil {
				t.Fatalf("regenerated code: %v", err)
			}
		})
	})
	t.Run("ErrNotWindows", func(t *testing.T) {
		st, _ := coretest.Open(t)
		_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
		mac := coretest.WindowsPC
		mac.OSName = "macOS 15.1"
		_, err := st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "192.0.2.1:1", Facts: mac})
		if !errors.Is(err, core.ErrNotWindows) {
			t.Fatalf("err = %v", err)
		}
		if s, _ := st.Session(ctx, prep.Session.ID); s.State != core.StatePrepared || s.CodeAttemptsLeft != 5 {
			t.Fatalf("a refused non-Windows PC changed the session: %+v", s)
		}
		rows, _ := st.Audit(ctx, core.AuditFilter{Search: "Windows PCs only"})
		if len(rows) != 1 {
			t.Fatalf("refusal audited %d times", len(rows))
		}
	})
	t.Run("ErrAlreadyPaired", func(t *testing.T) {
		st, _ := coretest.Open(t)
		_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
		req := core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "192.0.2.1:1", Facts: coretest.WindowsPC}
		if _, err := st.Pair(ctx, req); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Pair(ctx, req); !errors.Is(err, core.ErrAlreadyPaired) {
			t.Fatalf("second pairing: %v", err)
		}
	})
	t.Run("ErrUnknownToken", func(t *testing.T) {
		st, _ := coretest.Open(t)
		_, err := st.Pair(ctx, core.PairRequest{Token: "nope", Code: "123456789", RemoteAddr: "192.0.2.1:1", Facts: coretest.WindowsPC})
		if !errors.Is(err, core.ErrUnknownToken) {
			t.Fatalf("err = %v", err)
		}
		if _, err := st.Invitation(ctx, "nope"); !errors.Is(err, core.ErrUnknownToken) {
			t.Fatalf("invitation: %v", err)
		}
	})
	t.Run("CodeWithSpaces", func(t *testing.T) {
		st, _ := coretest.Open(t)
		_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
		typed := strings.ReplaceAll(prep.Code, " ", "-")
		if _, err := st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: typed, RemoteAddr: "192.0.2.1:1", Facts: coretest.WindowsPC}); err != nil {
			t.Fatalf("code typed as %q: %v", typed, err)
		}
	})
}

func TestRateLimitSurvivesRestart(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	clock := coretest.NewClock(coretest.Start)
	st, err := core.Open(core.Config{DataDir: dir, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// Ten wrong codes on three real invitations (4 + 4 + 2, none burned):
	// guesses that could succeed are what the limit must remember.
	for i, tries := range []int{4, 4, 2} {
		_, prep := coretest.MustPrepare(t, st, "Tech", fmt.Sprintf("tech%d@example.com", i))
		for range tries {
			_, err := st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: coretest.WrongCode(prep.Code), RemoteAddr: "198.51.100.4:4000", Facts: coretest.WindowsPC})
			if !errors.Is(err, core.ErrInvalidCode) {
				t.Fatalf("err = %v", err)
			}
		}
	}
	st.Close()

	st = coretest.OpenWith(t, dir, clock, nil)
	clock.Advance(20 * time.Second)
	_, err = st.Pair(ctx, core.PairRequest{Token: "guess", Code: "000000000", RemoteAddr: "198.51.100.4:4001", Facts: coretest.WindowsPC})
	var rl *core.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 40*time.Second {
		t.Fatalf("after restart: %v, want rate limited for 40s", err)
	}
	// Another address is not affected, and the window ends.
	if _, err := st.Pair(ctx, core.PairRequest{Token: "guess", RemoteAddr: "198.51.100.5:1", Facts: coretest.WindowsPC}); !errors.Is(err, core.ErrUnknownToken) {
		t.Fatalf("other address: %v", err)
	}
	clock.Advance(41 * time.Second)
	if _, err := st.Pair(ctx, core.PairRequest{Token: "guess", RemoteAddr: "198.51.100.4:1", Facts: coretest.WindowsPC}); !errors.Is(err, core.ErrUnknownToken) {
		t.Fatalf("after the window: %v", err)
	}
}

func TestAgentCalls(t *testing.T) {
	ctx := t.Context()
	st, clock := coretest.Open(t)
	sub := st.Subscribe()
	defer sub.Close()
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	paired, err := st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "192.0.2.1:1", Facts: coretest.WindowsPC})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ConfirmAccount(ctx, paired.AgentKey); err != nil {
		t.Fatal(err)
	}
	if err := st.ConfirmAccount(ctx, "forged"); !errors.Is(err, core.ErrUnknownToken) {
		t.Fatalf("forged key: %v", err)
	}
	clock.Advance(2 * time.Minute)
	st.Tick(ctx)
	coretest.WaitEvent(t, sub, core.EventComputerOffline, prep.Session.ID)
	if _, err := st.Heartbeat(ctx, paired.AgentKey); err != nil {
		t.Fatal(err)
	}
	coretest.WaitEvent(t, sub, core.EventComputerOnline, prep.Session.ID)
	if err := st.EndByUser(ctx, paired.AgentKey); err != nil {
		t.Fatal(err)
	}
	coretest.WaitEvent(t, sub, core.EventEnded, prep.Session.ID)
	if err := st.CleanupReceipt(ctx, paired.AgentKey, "account AdHocRemoteUser deleted"); err != nil {
		t.Fatal(err)
	}
	s, _ := st.Session(ctx, prep.Session.ID)
	if s.State != core.StateEnded || s.CloseReason != "ended by the end user" || !s.Computer.CleanedUp || !s.Computer.AccountReady {
		t.Fatalf("session after cleanup: %+v %+v", s, s.Computer)
	}
	rows, _ := st.Audit(ctx, core.AuditFilter{Search: "cleanup receipt"})
	if len(rows) != 1 {
		t.Fatalf("cleanup receipt audited %d times", len(rows))
	}
}

// TestPairViaHubRecorded pairs one PC through a hub and one directly: the
// session keeps the hub (also in the list and after a restart, when no
// live channel says anything), the direct one keeps none, and the audit
// row of the hub's pairing names the hub.
func TestPairViaHubRecorded(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	clock := coretest.NewClock(coretest.Start)
	st := coretest.OpenWith(t, dir, clock, nil)
	_, viaHub := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	_, direct := coretest.MustPrepare(t, st, "Ann", "ann@example.com")
	const hub = "https://hub.example.org:8444"
	if _, err := st.Pair(ctx, core.PairRequest{Token: viaHub.Session.Token, Code: viaHub.Code, RemoteAddr: "192.0.2.1:1",
		Facts: coretest.WindowsPC, ViaHub: hub}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pair(ctx, core.PairRequest{Token: direct.Session.Token, Code: direct.Code, RemoteAddr: "192.0.2.2:1",
		Facts: coretest.WindowsPC}); err != nil {
		t.Fatal(err)
	}
	check := func(st *core.Station, when string) {
		t.Helper()
		if s, err := st.Session(ctx, viaHub.Session.ID); err != nil || s.ViaHub != hub {
			t.Fatalf("%s: the session paired through the hub says ViaHub %q (%v)", when, s.ViaHub, err)
		}
		if s, err := st.Session(ctx, direct.Session.ID); err != nil || s.ViaHub != "" {
			t.Fatalf("%s: the session paired directly says ViaHub %q (%v)", when, s.ViaHub, err)
		}
		list, err := st.Sessions(ctx, core.SessionFilter{OpenOnly: true})
		if err != nil || len(list) != 2 {
			t.Fatalf("%s: %d open sessions (%v)", when, len(list), err)
		}
		for _, s := range list {
			if want := map[int64]string{viaHub.Session.ID: hub}[s.ID]; s.ViaHub != want {
				t.Fatalf("%s: the list says session %d paired via %q, not %q", when, s.ID, s.ViaHub, want)
			}
		}
	}
	check(st, "after pairing")
	rows, err := st.Audit(ctx, core.AuditFilter{Search: "paired with"})
	if err != nil || len(rows) != 2 {
		t.Fatalf("%d pairing rows (%v)", len(rows), err)
	}
	for _, r := range rows {
		through := strings.Contains(r.Detail, "through the hub hub.example.org:8444")
		if through != (r.SessionID == viaHub.Session.ID) {
			t.Fatalf("session %d's pairing row: %q", r.SessionID, r.Detail)
		}
	}
	st.Close()
	check(coretest.OpenWith(t, dir, clock, nil), "after a restart")
}
