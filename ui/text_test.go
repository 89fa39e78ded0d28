package ui

import (
	"testing"
	"time"

	"adhocstation/core"
)

func TestSizeText(t *testing.T) {
	for _, c := range []struct {
		n    uint64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KB"}, {1536, "1.5 KB"},
		{3 << 20, "3.0 MB"}, {512 << 20, "512.0 MB"}, {16 << 30, "16.0 GB"}, {212<<30 + 100<<20, "212.1 GB"},
	} {
		if got := sizeText(c.n); got != c.want {
			t.Errorf("sizeText(%d) = %q, want %q", c.n, got, c.want)
		}
		// A file's size (int64) reads as a drive's or memory's (uint64).
		if got := sizeText(int64(c.n)); got != c.want {
			t.Errorf("sizeText(int64(%d)) = %q, want %q", c.n, got, c.want)
		}
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 sessions", 1: "1 session", 2: "2 sessions"} {
		if got := plural(n, "session", "sessions"); got != want {
			t.Errorf("plural(%d) = %q, want %q", n, got, want)
		}
	}
}

// A closed session's line on Computers names its state once, whichever
// interface closed it (issue 17, item 14).
func TestClosedSessionDetails(t *testing.T) {
	sess := core.Session{UserEmail: "user@example.com", ProfileName: "Anna", State: core.StateCancelled,
		CloseReason: "cancelled by the technician", ClosedAt: time.Date(2026, 1, 5, 14, 2, 0, 0, time.Local)}
	if got, want := sessionDetails(sess), "Session for user@example.com by Anna: cancelled by the technician on Mon 5 Jan 14:02."; got != want {
		t.Errorf("details %q, want %q", got, want)
	}
}
