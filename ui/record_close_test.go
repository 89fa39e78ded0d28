//go:build linux

package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/record"
)

// Closing the remote window while viewing with control on, or the remote
// session being closed before the window closes its view, leaves a
// recording that ends with control off and then viewing off, recorded
// before the seal: whichever goroutine gets there first (run -count=20).
func TestClosingWhileViewingEndsRecording(t *testing.T) {
	for _, order := range []string{"window", "session first"} {
		t.Run(order, func(t *testing.T) {
			g, st := recordedRig(t, 320, 240)
			g.showTab()
			g.start(t)
			g.act(func() { g.tab.control.SetChecked(true) })
			// Both take the results' turn: the view's end may be applied on
			// the stream's goroutine under the test driver.
			if order == "window" {
				g.act(g.r.win.Close) // the view, then the session, then commands
			} else {
				g.act(func() { g.r.rs.Close() }) // the seal is asked for while the view is open
				g.act(g.r.win.Close)
			}
			ctx, cancel := context.WithTimeout(context.Background(), coretest.WaitLimit)
			defer cancel()
			if err := st.WaitRecordings(ctx); err != nil {
				t.Fatal(err)
			}
			recs, err := st.Recordings(ctx, 0)
			if err != nil || len(recs) != 1 || !recs[0].Saved || !recs[0].Complete {
				t.Fatalf("recordings %+v, %v; want one, sealed", recs, err)
			}
			f, _, err := st.OpenRecording(ctx, recs[0].Name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			events, err := f.Events()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := toggles(events), "viewing on, control on, control off, viewing off"; got != want {
				t.Fatalf("the recording's screen events: %s; want %s", got, want)
			}
			if last := events[len(events)-1]; last.Type != record.TypeScreen {
				t.Fatalf("the recording ends with a %q record, not viewing off", last.Type)
			}
		})
	}
}

// toggles reads the screen and control records in order.
func toggles(events []record.Record) string {
	var out string
	for _, e := range events {
		var tg record.Toggle
		name := map[byte]string{record.TypeScreen: "viewing", record.TypeControl: "control"}[e.Type]
		if name == "" || e.Decode(&tg) != nil {
			continue
		}
		if out != "" {
			out += ", "
		}
		out += fmt.Sprintf("%s %s", name, map[bool]string{true: "on", false: "off"}[tg.On])
	}
	return out
}

// Closing the remote window enters "remote session closed" in the audit
// log, after the sign-in, saying who, which PC and how long; the chain
// stays intact.
func TestClosingRemoteWindowIsAudited(t *testing.T) {
	st, _, r, _ := remoteTestOpen(t)
	r.win.Close()
	r.rs.Close() // a second Close is not a second entry
	ctx, cancel := context.WithTimeout(context.Background(), coretest.WaitLimit)
	defer cancel()
	if err := st.WaitRemoteClosed(ctx); err != nil {
		t.Fatal(err)
	}
	entries, err := st.Audit(ctx, core.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	signIn, closed := -1, -1
	for i, e := range entries { // newest first
		switch e.Event {
		case "remote sign-in":
			signIn = i
		case core.AuditRemoteClosed:
			closed = i
			want := r.rs.Technician + " closed the remote session on " + r.rs.Computer + " after "
			if !strings.HasPrefix(e.Detail, want) || e.SessionID != r.rs.SessionID {
				t.Errorf("the entry says %q (session %d); want %q… of session %d", e.Detail, e.SessionID, want, r.rs.SessionID)
			}
		}
	}
	if closed < 0 || signIn < 0 || closed > signIn {
		t.Fatalf("audit rows: sign-in at %d, closed at %d (newest first); want both, closed after the sign-in", signIn, closed)
	}
	if n := countEvent(entries, core.AuditRemoteClosed); n != 1 {
		t.Fatalf("%d close entries; want 1", n)
	}
	if err := st.VerifyAudit(ctx); err != nil {
		t.Fatalf("the audit chain after the close entry: %v", err)
	}
}

func countEvent(entries []core.AuditEntry, event string) int {
	n := 0
	for _, e := range entries {
		if e.Event == event {
			n++
		}
	}
	return n
}
