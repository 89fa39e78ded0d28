package core_test

import (
	"strings"
	"testing"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// TestClosedText: every way a session closes reads with its state once,
// not "cancelled (cancelled by the technician)" (issue 17, item 14).
func TestClosedText(t *testing.T) {
	want := map[string]string{
		"Cancelled":   "cancelled by the technician",
		"TimedOut":    "cancelled (invitation timed out)",
		"Ended":       "ended by the technician",
		"EndedByUser": "ended by the end user",
		"Expired":     "expired (24 hours after activation)",
	}
	for _, tc := range waysToLeavePrepared("Cancelled", "TimedOut", "Ended", "EndedByUser", "Expired") {
		t.Run(tc.name, func(t *testing.T) {
			clock := coretest.NewClock(coretest.Start)
			st := coretest.OpenWith(t, t.TempDir(), clock, nil)
			_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
			tc.leave(t, st, clock, prep)
			sess, err := st.Session(t.Context(), prep.Session.ID)
			if err != nil {
				t.Fatal(err)
			}
			got := sess.ClosedText()
			if got != want[tc.name] || strings.Count(got, string(sess.State)) != 1 {
				t.Errorf("%s session with reason %q reads %q, want %q", sess.State, sess.CloseReason, got, want[tc.name])
			}
		})
	}
	// An open session has no reason: its state alone.
	if got := (core.Session{State: core.StateActive}).ClosedText(); got != "active" {
		t.Errorf("active session reads %q", got)
	}
}
