// Package coretest opens real stations for tests: a real SQLite file in a
// temporary folder and a clock the test moves by hand.
package coretest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"adhocstation/core"
)

// Clock is a manual clock; 24 hours pass with one Advance, without sleeping.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Start is where test clocks begin: a Tuesday morning.
var Start = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// Open opens a station in a fresh temporary folder with a clock at Start.
// SMTP is not configured, so invitations wait in the outbox.
func Open(tb testing.TB) (*core.Station, *Clock) {
	tb.Helper()
	clock := NewClock(Start)
	return OpenWith(tb, tb.TempDir(), clock, nil), clock
}

// OpenWith opens a station in dir on clock with mailer (nil: the real one)
// and closes it when the test ends.
func OpenWith(tb testing.TB, dir string, clock *Clock, mailer core.Mailer) *core.Station {
	tb.Helper()
	st, err := core.Open(core.Config{DataDir: dir, Now: clock.Now, Mailer: mailer})
	if err != nil {
		tb.Fatalf("open station: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// Password is a valid technician password for tests.
const Password = "Correct-Horse-42"

// PasswordFor is the password MustPrepare uses for a profile: Password for
// the first profile, a different one for each other, because two open
// sessions may not share a password.
func PasswordFor(profileID int64) string {
	if profileID == 1 {
		return Password
	}
	return fmt.Sprintf("%s-%d", Password, profileID)
}

// MustPrepare adds a profile and prepares a session for user@example.com
// with PasswordFor(the new profile).
func MustPrepare(tb testing.TB, st *core.Station, name, email string) (core.Profile, core.Prepared) {
	tb.Helper()
	return mustPrepareFor(tb, st, name, email, "user@example.com")
}

// PrepareFor prepares a session for user's address by a new profile named
// tech, whose own address is made from the name.
func PrepareFor(tb testing.TB, st *core.Station, tech, user string) core.Prepared {
	tb.Helper()
	_, prep := mustPrepareFor(tb, st, tech, strings.ToLower(strings.ReplaceAll(tech, " ", "."))+"@example.com", user)
	return prep
}

func mustPrepareFor(tb testing.TB, st *core.Station, name, email, user string) (core.Profile, core.Prepared) {
	tb.Helper()
	p, err := st.CreateProfile(tb.Context(), name, email)
	if err != nil {
		tb.Fatalf("create profile: %v", err)
	}
	pw := PasswordFor(p.ID)
	prep, err := st.Prepare(tb.Context(), core.PrepareRequest{ProfileID: p.ID, UserEmail: user,
		Password: pw, Confirm: pw})
	if err != nil {
		tb.Fatalf("prepare for %s: %v", user, err)
	}
	return p, prep
}

// WindowsPC is a typical PC's facts.
var WindowsPC = core.ComputerFacts{Hostname: "DESKTOP-7QK2", OSName: "Windows 11 Pro", OSVersion: "10.0.22631",
	Arch: "amd64", WindowsUser: "anna", MachineID: "4c4c4544-0042-3510-8052-b4c04f4d3732"}

// WrongCode returns a security code that differs from code in its first
// digit, for tests of refused codes.
func WrongCode(code string) string {
	if code[0] == '9' {
		return "1" + code[1:]
	}
	return "9" + code[1:]
}
