package core_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

func TestPrepareRules(t *testing.T) {
	ctx := t.Context()
	type setup func(t *testing.T, st *core.Station) int64
	oneProfile := func(t *testing.T, st *core.Station) int64 {
		p, err := st.CreateProfile(ctx, "Tom Tech", "tom@example.com")
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	pw := coretest.Password
	cases := []struct {
		name    string
		setup   setup
		req     core.PrepareRequest
		want    error
		message string
	}{
		{"ErrInvalidEmail", oneProfile, core.PrepareRequest{UserEmail: "anna at example.com", Password: pw, Confirm: pw},
			core.ErrInvalidEmail, "is not a valid email address"},
		{"ErrInvalidEmail/empty", oneProfile, core.PrepareRequest{UserEmail: " ", Password: pw, Confirm: pw},
			core.ErrInvalidEmail, "Enter the end user's email address"},
		{"ErrInvalidEmail/displayName", oneProfile, core.PrepareRequest{UserEmail: "Anna <anna@example.com>", Password: pw, Confirm: pw},
			core.ErrInvalidEmail, "without a name"},
		{"ErrWeakPassword/short", oneProfile, core.PrepareRequest{UserEmail: "anna@example.com", Password: "short1!", Confirm: "short1!"},
			core.ErrWeakPassword, "at least 10 characters"},
		{"ErrWeakPassword/containsLocalPart", oneProfile, core.PrepareRequest{UserEmail: "anna.berg@example.com", Password: "xxAnna.Berg2026", Confirm: "xxAnna.Berg2026"},
			core.ErrWeakPassword, "must not contain the user's email name (anna.berg)"},
		{"ErrPasswordMismatch", oneProfile, core.PrepareRequest{UserEmail: "anna@example.com", Password: pw, Confirm: pw + "x"},
			core.ErrPasswordMismatch, "do not match"},
		{"ErrProfileNotFound", func(t *testing.T, st *core.Station) int64 { return 42 },
			core.PrepareRequest{UserEmail: "anna@example.com", Password: pw, Confirm: pw}, core.ErrProfileNotFound, "does not exist"},
		{"ErrProfileBusy", func(t *testing.T, st *core.Station) int64 {
			id := oneProfile(t, st)
			if _, err := st.Prepare(ctx, core.PrepareRequest{ProfileID: id, UserEmail: "first@example.com", Password: pw, Confirm: pw}); err != nil {
				t.Fatal(err)
			}
			return id
		}, core.PrepareRequest{UserEmail: "anna@example.com", Password: pw, Confirm: pw}, core.ErrProfileBusy,
			"Only one ad hoc support session can be active at a time per profile"},
		{"ErrNoSeat", func(t *testing.T, st *core.Station) int64 {
			set, _ := st.Settings(ctx)
			set.Seats = 2
			if err := st.SaveSettings(ctx, set); err != nil {
				t.Fatal(err)
			}
			for _, e := range []string{"a1@example.com", "a2@example.com"} {
				p, err := st.CreateProfile(ctx, "Other", e)
				if err != nil {
					t.Fatal(err)
				}
				other := "Seat-Taker-" + e // open sessions may not share a password
				if _, err := st.Prepare(ctx, core.PrepareRequest{ProfileID: p.ID, UserEmail: "u@example.com", Password: other, Confirm: other}); err != nil {
					t.Fatal(err)
				}
			}
			return oneProfile(t, st)
		}, core.PrepareRequest{UserEmail: "anna@example.com", Password: pw, Confirm: pw}, core.ErrNoSeat,
			"All 2 seats are in use — end a session to free one."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := coretest.Open(t)
			tc.req.ProfileID = tc.setup(t, st)
			before, _ := st.Sessions(ctx, core.SessionFilter{})
			_, err := st.Prepare(ctx, tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Prepare error = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("message %q does not say %q", err.Error(), tc.message)
			}
			after, _ := st.Sessions(ctx, core.SessionFilter{})
			if len(after) != len(before) {
				t.Errorf("a refused prepare left a session row: %d → %d", len(before), len(after))
			}
		})
	}
}

// The shortest password accepted is exactly MinPasswordLength (10)
// characters, counted as characters, not bytes: one less is refused.
func TestPasswordLengthBoundary(t *testing.T) {
	ctx := t.Context()
	st, _ := coretest.Open(t)
	for i, c := range []struct {
		password string
		ok       bool
	}{
		{"Abcdefgh1", false}, // 9
		{"Abcdefgh12", true}, // 10
		{"Äbcdéfgh1", false}, // 9 characters, 11 bytes
		{"Äbcdéfgh12", true}, // 10 characters
	} {
		p, err := st.CreateProfile(ctx, fmt.Sprintf("Tech %d", i), fmt.Sprintf("tech%d@example.com", i))
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.Prepare(ctx, core.PrepareRequest{ProfileID: p.ID, UserEmail: "user@example.com",
			Password: c.password, Confirm: c.password})
		if c.ok && err != nil {
			t.Errorf("%d characters refused: %v", utf8.RuneCountInString(c.password), err)
		}
		if !c.ok && (!errors.Is(err, core.ErrWeakPassword) || !strings.Contains(err.Error(), "at least 10 characters")) {
			t.Errorf("%d characters: err = %v, want the 10-character rule", utf8.RuneCountInString(c.password), err)
		}
	}
}

func TestRefusalsAreAudited(t *testing.T) {
	ctx := t.Context()
	st, _ := coretest.Open(t)
	p, _ := coretest.MustPrepare(t, st, "Tom Tech", "tom@example.com")
	_, err := st.Prepare(ctx, core.PrepareRequest{ProfileID: p.ID, UserEmail: "b@example.com", Password: coretest.Password, Confirm: coretest.Password})
	if !errors.Is(err, core.ErrProfileBusy) {
		t.Fatalf("err = %v", err)
	}
	rows, err := st.Audit(ctx, core.AuditFilter{Search: "prepare refused"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("audit rows for the refusal: %d, %v", len(rows), err)
	}
}

func TestPrepareReturnsCodeOnce(t *testing.T) {
	st, _ := coretest.Open(t)
	_, prep := coretest.MustPrepare(t, st, "Tom Tech", "tom@example.com")
	if len(prep.Code) != 11 || prep.Code[3] != ' ' || prep.Code[7] != ' ' {
		t.Errorf("code %q is not formatted like 482 193 657", prep.Code)
	}
	if !strings.HasPrefix(prep.Link, "https://localhost:8443/join/") || len(prep.Session.Token) < 22 {
		t.Errorf("link %q / token %q", prep.Link, prep.Session.Token)
	}
	if prep.Session.State != core.StatePrepared || prep.Session.CodeAttemptsLeft != 5 {
		t.Errorf("session %+v", prep.Session)
	}
}

// TestFullDay walks a session through its 24 hours with the injected clock.
func TestFullDay(t *testing.T) {
	ctx := t.Context()
	st, clock := coretest.Open(t)
	sub := st.Subscribe()
	defer sub.Close()
	_, prep := coretest.MustPrepare(t, st, "Tom Tech", "tom@example.com")
	clock.Advance(10 * time.Minute)
	paired, err := st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "192.0.2.7:50123", Facts: coretest.WindowsPC})
	if err != nil {
		t.Fatal(err)
	}
	if paired.Password != coretest.Password || paired.AgentKey == "" {
		t.Fatalf("paired = %+v", paired)
	}
	activated := clock.Now()
	if !paired.Session.ActivatedAt.Equal(activated) || !paired.Session.ExpiresAt.Equal(activated.Add(24*time.Hour)) {
		t.Fatalf("activated %v expires %v", paired.Session.ActivatedAt, paired.Session.ExpiresAt)
	}
	coretest.WaitEvent(t, sub, core.EventPaired, prep.Session.ID)

	for _, step := range []time.Duration{time.Hour, 22 * time.Hour, 59 * time.Minute} { // 23h59m in all
		clock.Advance(step)
		if _, err := st.Heartbeat(ctx, paired.AgentKey); err != nil {
			t.Fatal(err)
		}
		if err := st.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := st.Session(ctx, prep.Session.ID)
	if s.State != core.StateActive {
		t.Fatalf("at 23h59m state = %s, want active", s.State)
	}
	if free, total, _ := st.Seats(ctx); free != total-1 {
		t.Fatalf("seats free %d of %d while active", free, total)
	}
	coretest.WaitEvent(t, sub, core.EventExpiringSoon, prep.Session.ID)

	clock.Advance(time.Minute)
	if err := st.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	s, _ = st.Session(ctx, prep.Session.ID)
	if s.State != core.StateExpired || !s.ClosedAt.Equal(activated.Add(24*time.Hour)) {
		t.Fatalf("at 24h state = %s closed %v", s.State, s.ClosedAt)
	}
	if free, total, _ := st.Seats(ctx); free != total {
		t.Fatalf("seat not freed: %d of %d", free, total)
	}
	coretest.WaitEvent(t, sub, core.EventExpired, prep.Session.ID)
	hb, err := st.Heartbeat(ctx, paired.AgentKey)
	if err != nil || hb.State != core.StateExpired {
		t.Fatalf("heartbeat after expiry: %v %v (the PC must learn it has to clean up)", hb.State, err)
	}
	if err := st.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestInvitationTimesOut(t *testing.T) {
	ctx := t.Context()
	st, clock := coretest.Open(t)
	_, prep := coretest.MustPrepare(t, st, "Tom Tech", "tom@example.com")
	clock.Advance(59 * time.Minute)
	st.Tick(ctx)
	if s, _ := st.Session(ctx, prep.Session.ID); s.State != core.StatePrepared {
		t.Fatalf("state %s before the hour", s.State)
	}
	clock.Advance(time.Minute)
	st.Tick(ctx)
	s, _ := st.Session(ctx, prep.Session.ID)
	if s.State != core.StateCancelled || s.CloseReason != "invitation timed out" {
		t.Fatalf("state %s reason %q", s.State, s.CloseReason)
	}
	_, err := st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "192.0.2.1:1", Facts: coretest.WindowsPC})
	if !errors.Is(err, core.ErrInvitationExpired) {
		t.Fatalf("pair after timeout: %v", err)
	}
}

// A saved invitation timeout, not the default hour, decides when the link
// dies: with 30 minutes it still opens at 29:59 and is dead at 30:00.
func TestInvitationTimeoutFromSettings(t *testing.T) {
	ctx := t.Context()
	st, clock := coretest.Open(t)
	set, err := st.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set.InvitationTimeout = 30 * time.Minute
	if err := st.SaveSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	_, prep := coretest.MustPrepare(t, st, "Tom Tech", "tom@example.com")
	if want := coretest.Start.Add(30 * time.Minute); !prep.Session.InviteExpiresAt.Equal(want) {
		t.Fatalf("the invitation expires at %v, want %v", prep.Session.InviteExpiresAt, want)
	}
	clock.Advance(30*time.Minute - time.Second)
	if err := st.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Invitation(ctx, prep.Session.Token); err != nil {
		t.Fatalf("the link is dead at 29:59: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := st.Invitation(ctx, prep.Session.Token); !errors.Is(err, core.ErrInvitationExpired) {
		t.Fatalf("the link still opens at 30:00: %v", err)
	}
	if err := st.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	s, _ := st.Session(ctx, prep.Session.ID)
	if s.State != core.StateCancelled || s.CloseReason != "invitation timed out" {
		t.Fatalf("at 30:00: state %s, reason %q", s.State, s.CloseReason)
	}
	_, err = st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "192.0.2.1:1", Facts: coretest.WindowsPC})
	if !errors.Is(err, core.ErrInvitationExpired) {
		t.Fatalf("pairing at 30:00: %v", err)
	}
}

func TestCancelRegenerateEnd(t *testing.T) {
	ctx := t.Context()
	st, _ := coretest.Open(t)
	_, prep := coretest.MustPrepare(t, st, "Tom Tech", "tom@example.com")
	id := prep.Session.ID

	t.Run("RegenerateCode", func(t *testing.T) {
		code, err := st.RegenerateCode(ctx, id)
		if err != nil || code == prep.Code {
			t.Fatalf("new code %q err %v", code, err)
		}
		_, err = st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "192.0.2.1:1", Facts: coretest.WindowsPC})
		if !errors.Is(err, core.ErrInvalidCode) {
			t.Fatalf("old code after regenerate: %v", err)
		}
	})
	t.Run("Cancel", func(t *testing.T) {
		if err := st.Cancel(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := st.Cancel(ctx, id); !errors.Is(err, core.ErrNotPrepared) {
			t.Fatalf("second cancel: %v", err)
		}
		if _, err := st.RegenerateCode(ctx, id); !errors.Is(err, core.ErrNotPrepared) {
			t.Fatalf("regenerate after cancel: %v", err)
		}
		if free, total, _ := st.Seats(ctx); free != total {
			t.Fatalf("seat not freed by cancel")
		}
	})
	t.Run("ErrSessionNotFound", func(t *testing.T) {
		if err := st.End(ctx, 999); !errors.Is(err, core.ErrSessionNotFound) {
			t.Fatalf("end unknown: %v", err)
		}
	})
	t.Run("EndActive", func(t *testing.T) {
		p2, err := st.CreateProfile(ctx, "Second", "second@example.com")
		if err != nil {
			t.Fatal(err)
		}
		prep2, err := st.Prepare(ctx, core.PrepareRequest{ProfileID: p2.ID, UserEmail: "x@example.com", Password: coretest.Password, Confirm: coretest.Password})
		if err != nil {
			t.Fatal(err)
		}
		paired, err := st.Pair(ctx, core.PairRequest{Token: prep2.Session.Token, Code: prep2.Code, RemoteAddr: "192.0.2.2:1", Facts: coretest.WindowsPC})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.End(ctx, prep2.Session.ID); err != nil {
			t.Fatal(err)
		}
		if err := st.End(ctx, prep2.Session.ID); !errors.Is(err, core.ErrSessionClosed) {
			t.Fatalf("end twice: %v", err)
		}
		hb, _ := st.Heartbeat(ctx, paired.AgentKey)
		if hb.State != core.StateEnded || hb.Computer.Online {
			t.Fatalf("after End: %s online=%v", hb.State, hb.Computer.Online)
		}
	})
}

func TestRestartReloadsAndExpires(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	clock := coretest.NewClock(coretest.Start)
	st, err := core.Open(core.Config{DataDir: dir, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	_, prep := coretest.MustPrepare(t, st, "Tom Tech", "tom@example.com")
	if _, err := st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "192.0.2.1:1", Facts: coretest.WindowsPC}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	clock.Advance(25 * time.Hour) // the station was off when the session ran out
	st2 := coretest.OpenWith(t, dir, clock, nil)
	s, err := st2.Session(ctx, prep.Session.ID)
	if err != nil || s.State != core.StateExpired {
		t.Fatalf("after restart: %v %v", s.State, err)
	}
	if s.Computer == nil || s.Computer.Hostname != "DESKTOP-7QK2" {
		t.Fatalf("computer lost: %+v", s.Computer)
	}
}

func TestProfiles(t *testing.T) {
	ctx := t.Context()
	st, _ := coretest.Open(t)
	if _, err := st.CreateProfile(ctx, "Tom", "tom@example.com"); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		name, email string
		want        error
	}{
		"ErrProfileExists": {"Tom again", "TOM@example.com", core.ErrProfileExists},
		"ErrInvalidName":   {"  ", "x@example.com", core.ErrInvalidName},
		"ErrInvalidEmail":  {"X", "x@", core.ErrInvalidEmail},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := st.CreateProfile(ctx, tc.name, tc.email); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	ps, _ := st.Profiles(ctx)
	if len(ps) != 1 {
		t.Fatalf("profiles: %+v", ps)
	}
}

func TestSettingsValidation(t *testing.T) {
	ctx := t.Context()
	st, _ := coretest.Open(t)
	cases := map[core.SettingField]func(*core.Settings){
		core.FieldSeats:             func(s *core.Settings) { s.Seats = 0 },
		core.FieldInvitationTimeout: func(s *core.Settings) { s.InvitationTimeout = time.Minute },
		core.FieldSMTPSecurity: func(s *core.Settings) {
			s.SMTP = core.SMTPSettings{Host: "mail.example.com", Port: 25, Security: core.SMTPPlain, Sender: "a@example.com"}
		},
		core.FieldSender: func(s *core.Settings) {
			s.SMTP = core.SMTPSettings{Host: "mail.example.com", Port: 587, Security: core.SMTPStartTLS}
		},
		core.FieldListenAddr:  func(s *core.Settings) { s.Pairing.ListenAddr = "8443" },
		core.FieldPublicHost:  func(s *core.Settings) { s.Pairing.PublicHost = "https://x" },
		core.FieldPublicPort:  func(s *core.Settings) { s.Pairing.PublicPort = 70000 },
		core.FieldCertificate: func(s *core.Settings) { s.Pairing.CertFile = "/nonexistent.pem" },
		core.FieldSMTPPort: func(s *core.Settings) {
			s.SMTP = core.SMTPSettings{Host: "mail.example.com", Port: 0, Security: core.SMTPStartTLS, Sender: "a@example.com"}
		},
		core.FieldCAFile: func(s *core.Settings) {
			s.SMTP = core.SMTPSettings{Host: "m.example.com", Port: 587, Security: core.SMTPStartTLS, Sender: "a@example.com", CAFile: "/nope"}
		},
	}
	for field, mutate := range cases {
		t.Run(string(field), func(t *testing.T) {
			set := core.DefaultSettings()
			mutate(&set)
			err := st.SaveSettings(ctx, set)
			if got := core.SettingErrors(err); len(got) != 1 || got[0].Field != field || !errors.Is(err, core.ErrInvalidSetting) {
				t.Fatalf("err = %v, want one refusal of %q", err, field)
			}
		})
	}
	set := core.DefaultSettings()
	set.Seats, set.Pairing.PublicHost = 7, "station.example.com"
	if err := st.SaveSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Settings(ctx)
	if got.Seats != 7 {
		t.Fatalf("saved seats %d", got.Seats)
	}
	if link, _ := st.Link(ctx, "tok"); link != "https://station.example.com:8443/join/tok" {
		t.Fatalf("link %s", link)
	}
}

func TestSlowSubscriberDoesNotStall(t *testing.T) {
	ctx := t.Context()
	st, _ := coretest.Open(t)
	slow := st.Subscribe() // never read
	defer slow.Close()
	fast := st.Subscribe()
	defer fast.Close()
	for i := range 300 { // more than a subscriber's buffer
		if _, err := st.CreateProfile(ctx, "P", "p"+string(rune('a'+i%26))+time.Duration(i).String()+"@example.com"); err != nil {
			t.Fatal(err)
		}
		coretest.Receive(t, fast.C, "the new profile's event")
	}
	got := 0
	lagged := false
	for range len(slow.C) {
		e := <-slow.C
		got++
		lagged = lagged || e.Kind == core.EventLagged
	}
	if got == 0 || lagged {
		t.Fatalf("slow subscriber got %d events (lagged marker too early: %v)", got, lagged)
	}
	// Once it drains, the next event tells it that it missed some.
	if _, err := st.CreateProfile(ctx, "Q", "q@example.com"); err != nil {
		t.Fatal(err)
	}
	if e := coretest.Receive(t, slow.C, "an event after the overflow"); e.Kind != core.EventLagged {
		t.Fatalf("first event after overflow = %s, want lagged", e.Kind)
	}
}
