package core_test

import (
	"errors"
	"strings"
	"testing"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

const controlRule = "The password must not contain control characters such as tabs, line breaks or NUL. Use letters, digits, spaces and symbols."

// TestPasswordControlCharacters: a NUL would end the password on the
// Windows side; tabs, line breaks and DEL cannot be typed at sign-in.
func TestPasswordControlCharacters(t *testing.T) {
	st, _ := coretest.Open(t)
	p, err := st.CreateProfile(t.Context(), "Tom", "tom@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]string{"NUL": "\x00", "Tab": "\t", "Newline": "\n", "CR": "\r", "DEL": "\x7f", "C1": "\u0085"} {
		t.Run(name, func(t *testing.T) {
			pw := "Correct" + c + "Horse-42"
			var pe *core.PasswordError
			if err := st.ValidatePassword("user@example.com", pw); !errors.As(err, &pe) || pe.Rule != controlRule {
				t.Fatalf("ValidatePassword = %v", err)
			}
			_, err := st.Prepare(t.Context(), core.PrepareRequest{ProfileID: p.ID, UserEmail: "user@example.com", Password: pw, Confirm: pw})
			if !errors.Is(err, core.ErrWeakPassword) || err.Error() != controlRule {
				t.Fatalf("Prepare = %v", err)
			}
		})
	}
	if err := st.ValidatePassword("user@example.com", "Correct Horse-42 ü€"); err != nil {
		t.Fatalf("spaces and non-ASCII letters are fine: %v", err)
	}
}

// TestPasswordReuseRefused: the end user of one session holds its password,
// so no other open session may use the same one.
func TestPasswordReuseRefused(t *testing.T) {
	ctx := t.Context()
	st, _ := coretest.Open(t)
	_, first := coretest.MustPrepare(t, st, "Tom", "tom@example.com") // coretest.Password
	other, err := st.CreateProfile(ctx, "Eve", "eve@example.com")
	if err != nil {
		t.Fatal(err)
	}
	req := core.PrepareRequest{ProfileID: other.ID, UserEmail: "someone@example.com", Password: coretest.Password, Confirm: coretest.Password}
	if _, err := st.Prepare(ctx, req); !errors.Is(err, core.ErrPasswordInUse) {
		t.Fatalf("reuse while the first is prepared: %v", err)
	}
	if _, err := st.Pair(ctx, core.PairRequest{Token: first.Session.Token, Code: first.Code, RemoteAddr: "192.0.2.1:1",
		Facts: coretest.WindowsPC}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Prepare(ctx, req); !errors.Is(err, core.ErrPasswordInUse) {
		t.Fatalf("reuse while the first is active: %v", err)
	}
	if err := st.End(ctx, first.Session.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Prepare(ctx, req); err != nil {
		t.Fatalf("reuse after the first ended: %v", err)
	}
}

// TestPasswordHashesClearedOnClose: a closed session keeps no trace of its
// password (hash, keyed hash, sealed copy) nor of its code.
func TestPasswordHashesClearedOnClose(t *testing.T) {
	for _, tc := range waysToLeavePrepared("Cancelled", "TimedOut", "Ended", "EndedByUser", "Expired") {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			clock := coretest.NewClock(coretest.Start)
			st := coretest.OpenWith(t, dir, clock, nil)
			_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
			db := rawDB(t, dir)
			var hash string
			var mac []byte
			if err := db.QueryRow(`SELECT password_hash, password_mac FROM sessions WHERE id = ?`, prep.Session.ID).Scan(&hash, &mac); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(hash, "$argon2id$") || len(mac) == 0 {
				t.Fatalf("while open: hash %q, keyed hash %x", hash, mac)
			}
			tc.leave(t, st, clock, prep)
			var state string
			var traces int
			if err := db.QueryRow(`SELECT state, password_hash, (password_hash <> '') + (password_mac IS NOT NULL) +
				(password_sealed IS NOT NULL) + (code_hash IS NOT NULL) FROM sessions WHERE id = ?`,
				prep.Session.ID).Scan(&state, &hash, &traces); err != nil {
				t.Fatal(err)
			}
			if state == "prepared" || state == "active" || hash != "" || traces != 0 {
				t.Fatalf("closed (%s) session keeps hash %q and %d secret columns", state, hash, traces)
			}
		})
	}
}
