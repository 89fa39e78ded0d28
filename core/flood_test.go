package core_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

func TestRateLimitAddress(t *testing.T) {
	cases := []struct{ remote, want string }{
		{"192.0.2.7:5000", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:5000", "192.0.2.7"}, // IPv4-mapped counts as IPv4
		{"[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2::1]:1", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:1", "fe80::/64"},
		{"[::1]:8443", "::/64"},
		{"not an address", "not an address"},
	}
	for _, c := range cases {
		if got := core.RateLimitAddress(c.remote); got != c.want {
			t.Errorf("RateLimitAddress(%q) = %q, want %q", c.remote, got, c.want)
		}
	}
}

// TestFloodFromRotatingAddresses sends 2,000 pairing attempts with unknown
// links, each from a new address, and checks on the database file that the
// station wrote a handful of rows, not one or two per attempt.
func TestFloodFromRotatingAddresses(t *testing.T) {
	cases := []struct {
		name string
		addr func(i int) string
	}{
		{"IPv6 one /64", func(i int) string { return fmt.Sprintf("[2001:db8:7:7:%x:%x::1]:%d", i>>16, i&0xffff, 1024+i) }},
		{"IPv4", func(i int) string { return fmt.Sprintf("10.%d.%d.%d:4000", i>>16, (i>>8)&0xff, i&0xff) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			st, clock := coretest.Open(t)
			audit0, limits0 := coretest.Rows(t, st, "audit"), coretest.Rows(t, st, "rate_limits")
			var unknown, tooMany int
			for i := range 2000 {
				_, err := st.Pair(ctx, core.PairRequest{Token: fmt.Sprintf("guess-%d", i), Code: "123456789",
					RemoteAddr: c.addr(i), Facts: coretest.WindowsPC})
				switch {
				case errors.Is(err, core.ErrUnknownToken):
					unknown++
				case errors.Is(err, core.ErrRateLimited):
					tooMany++
				default:
					t.Fatalf("attempt %d: %v", i, err)
				}
			}
			if tooMany < 1900 {
				t.Errorf("%d of 2000 hopeless attempts were refused as too many (%d as unknown links); the station-wide budget did not hold", tooMany, unknown)
			}
			clock.Advance(time.Minute + time.Second)
			if err := st.Tick(ctx); err != nil { // writes the minute's summary
				t.Fatal(err)
			}
			if n := coretest.Rows(t, st, "audit") - audit0; n > 3 {
				t.Errorf("the flood added %d audit rows; want at most 3", n)
			}
			if n := coretest.Rows(t, st, "rate_limits") - limits0; n > 2 {
				t.Errorf("the flood added %d rate_limits rows; want at most 2", n)
			}
			rows, err := st.Audit(ctx, core.AuditFilter{Search: "1999 pairing attempts"})
			if err != nil || len(rows) != 1 {
				t.Fatalf("summary rows: %d (%v); want one counting the 1999 attempts not logged one by one", len(rows), err)
			}
			t.Log(rows[0].Detail)
		})
	}
}

// TestFloodDoesNotBlockRealPairing checks that a spent station-wide budget
// refuses only hopeless attempts: a real invitation still pairs.
func TestFloodDoesNotBlockRealPairing(t *testing.T) {
	ctx := t.Context()
	st, _ := coretest.Open(t)
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	var last error
	for i := range 200 {
		_, last = st.Pair(ctx, core.PairRequest{Token: fmt.Sprintf("guess-%d", i), Code: "123456789",
			RemoteAddr: fmt.Sprintf("10.0.%d.%d:1", i>>8, i&0xff), Facts: coretest.WindowsPC})
	}
	var flood *core.FloodError
	if !errors.As(last, &flood) || flood.RetryAfter <= 0 || flood.RetryAfter > time.Minute {
		t.Fatalf("200th hopeless attempt: %v; want the station-wide refusal", last)
	}
	if _, err := st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "10.0.0.5:1",
		Facts: coretest.WindowsPC}); err != nil {
		t.Fatalf("a real pairing during the flood: %v", err)
	}
}

// TestExpiredRateLimitsPruned checks that the deadline tick deletes the
// per-address windows that ended, a bounded batch at a time, and keeps the
// running ones.
func TestExpiredRateLimitsPruned(t *testing.T) {
	ctx := t.Context()
	st, clock := coretest.Open(t)
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	for i := range 3 {
		st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: coretest.WrongCode(prep.Code),
			RemoteAddr: fmt.Sprintf("192.0.2.%d:1", i+1), Facts: coretest.WindowsPC})
	}
	// Rows an older version left behind: never deleted until now.
	old := clock.Now().Add(-time.Hour).UnixMilli()
	coretest.Exec(t, st, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
		INSERT INTO rate_limits (address, window_start, attempts) SELECT '198.18.' || (i / 256) || '.' || (i % 256), ?, 1 FROM n`, old)
	if n := coretest.Rows(t, st, "rate_limits"); n != 5003 {
		t.Fatalf("%d rows before pruning", n)
	}
	clock.Advance(30 * time.Second)
	st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: coretest.WrongCode(prep.Code), RemoteAddr: "192.0.2.9:1", Facts: coretest.WindowsPC})
	clock.Advance(40 * time.Second) // the first three windows ended; 192.0.2.9's runs
	if err := st.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	left := coretest.Rows(t, st, "rate_limits")
	if left == 1 || left >= 5004 {
		t.Fatalf("%d rows after one tick; want a bounded batch deleted, not none or all", left)
	}
	for range 10 {
		if err := st.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := coretest.Rows(t, st, "rate_limits"); n != 1 {
		t.Fatalf("%d rows after the ticks; want only the running window", n)
	}
	// The running window still counts.
	for range 9 {
		st.Pair(ctx, core.PairRequest{Token: "guess", Code: "123456789", RemoteAddr: "192.0.2.9:2", Facts: coretest.WindowsPC})
	}
	if _, err := st.Pair(ctx, core.PairRequest{Token: "guess", Code: "123456789", RemoteAddr: "192.0.2.9:3", Facts: coretest.WindowsPC}); !errors.Is(err, core.ErrRateLimited) {
		t.Fatalf("11th attempt of 192.0.2.9 in its minute: %v", err)
	}
}
