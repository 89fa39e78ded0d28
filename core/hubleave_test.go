package core_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/mail/mailtest"
	"adhocstation/hub/hubtest"
)

// TestLeaveHubCountsInvitations: an invitation prepared while the station
// has joined a hub links to the hub and records it; leaving the hub is then
// refused, in words naming the user, that the link leads to the hub and
// what to do. An invitation prepared before joining (a direct link) holds
// nothing back; once the hub's invitation is cancelled the leave goes
// through.
func TestLeaveHubCountsInvitations(t *testing.T) {
	st, clock := coretest.Open(t)
	ctx := t.Context()
	direct := coretest.PrepareFor(t, st, "Dan Tech", "dan@example.com")
	h := hubtest.Start(t, clock.Now)
	if _, err := st.JoinHub(ctx, h.Client, h.URL, h.Code()); err != nil {
		t.Fatal(err)
	}
	viaHub := coretest.PrepareFor(t, st, "Tom Tech", "tom@example.com")
	if !strings.HasPrefix(viaHub.Link, h.URL+"/st/") || viaHub.Session.InviteHub != h.URL || direct.Session.InviteHub != "" {
		t.Fatalf("link %q, invite hub %q; the direct one's %q", viaHub.Link, viaHub.Session.InviteHub, direct.Session.InviteHub)
	}

	err := st.LeaveHub(ctx)
	text, _ := core.RefusalText(err)
	for _, want := range []string{"1 invitation sent through the hub " + core.HubHost(h.URL) + " still waits for its user",
		"to tom@example.com (session " + strconv.FormatInt(viaHub.Session.ID, 10) + ")", "Its link leads to the hub",
		"the technician's station is offline", "Cancel it, or use `hub leave --end-sessions`, which cancels it; then send a new invitation, which will reach this station directly."} {
		if !errors.Is(err, core.ErrHubSessionsOpen) || !strings.Contains(text, want) {
			t.Fatalf("leaving with an invitation through the hub: %v\nwant %q", err, want)
		}
	}
	if strings.Contains(text, "dan@example.com") || strings.Contains(text, "open session") {
		t.Errorf("the refusal names more than the hub's invitation: %q", text)
	}
	if _, ok, _ := st.Hub(ctx); !ok {
		t.Fatal("the refused leave left the hub")
	}

	if err := st.Cancel(ctx, viaHub.Session.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.LeaveHub(ctx); err != nil {
		t.Fatalf("with only a direct invitation waiting: %v", err)
	}
	if s, _ := st.Session(ctx, direct.Session.ID); s.State != core.StatePrepared {
		t.Errorf("the direct invitation is %s after leaving", s.State)
	}
}

// TestLeaveHubResentInvitation: Resend composes the link afresh, so an
// invitation prepared before joining and resent after links to the hub
// now, and counts.
func TestLeaveHubResentInvitation(t *testing.T) {
	st, clock := coretest.Open(t)
	ctx := t.Context()
	configure(t, st, mailtest.Start(t, mailtest.StartTLS), mailtest.Password)
	direct := coretest.PrepareFor(t, st, "Dan Tech", "dan@example.com")
	h := hubtest.Start(t, clock.Now)
	if _, err := st.JoinHub(ctx, h.Client, h.URL, h.Code()); err != nil {
		t.Fatal(err)
	}
	if err := st.ResendInvitation(ctx, direct.Session.ID); err != nil {
		t.Fatal(err)
	}
	if s, _ := st.Session(ctx, direct.Session.ID); s.InviteHub != h.URL {
		t.Fatalf("resent through the hub, the session's invite hub is %q", s.InviteHub)
	}
	if err := st.LeaveHub(ctx); !errors.Is(err, core.ErrHubSessionsOpen) || !strings.Contains(err.Error(), "to dan@example.com") {
		t.Fatalf("leaving with a resent invitation through the hub: %v", err)
	}
}

// TestLeaveHubEndingSessionsCancelsInvitations: leaving with the sessions
// ended cancels the waiting invitations through the hub as the technician's
// Cancel does (state, event, audit), lists them, and leaves. An invitation
// already past its time is not counted (the deadline sweep times it out).
func TestLeaveHubEndingSessionsCancelsInvitations(t *testing.T) {
	st, clock := coretest.Open(t)
	ctx := t.Context()
	h := hubtest.Start(t, clock.Now)
	if _, err := st.JoinHub(ctx, h.Client, h.URL, h.Code()); err != nil {
		t.Fatal(err)
	}
	set, err := st.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old := coretest.PrepareFor(t, st, "Old Tech", "old@example.com")
	clock.Advance(set.InvitationTimeout - time.Minute)
	ann := coretest.PrepareFor(t, st, "Ann Tech", "ann@example.com")
	bob := coretest.PrepareFor(t, st, "Bob Tech", "bob@example.com")
	clock.Advance(2 * time.Minute) // old's invitation is over; no tick has timed it out yet
	if err := st.LeaveHub(ctx); err == nil || !strings.Contains(err.Error(), "2 invitations sent through the hub") ||
		!strings.Contains(err.Error(), "to ann@example.com (session "+strconv.FormatInt(ann.Session.ID, 10)+"), bob@example.com") ||
		!strings.Contains(err.Error(), "Cancel them, or use `hub leave --end-sessions`, which cancels them; then send new invitations") ||
		strings.Contains(err.Error(), "old@example.com") {
		t.Fatalf("leaving with two invitations through the hub: %v", err)
	}

	sub := st.Subscribe()
	defer sub.Close()
	end, err := st.LeaveHubEndingSessions(ctx, coretest.WaitLimit)
	if err != nil {
		t.Fatal(err)
	}
	if len(end.Cancelled) != 2 || end.Cancelled[0].ID != ann.Session.ID || end.Cancelled[1].ID != bob.Session.ID || len(end.Ended) != 0 {
		t.Fatalf("cancelled %+v, ended %d", end.Cancelled, len(end.Ended))
	}
	if _, ok, _ := st.Hub(ctx); ok {
		t.Error("still joined after leaving with the sessions ended")
	}
	for _, p := range []core.Prepared{ann, bob} {
		coretest.WaitEvent(t, sub, core.EventCancelled, p.Session.ID)
		if s, _ := st.Session(ctx, p.Session.ID); s.State != core.StateCancelled || s.CloseReason != "cancelled by the technician to leave the hub" {
			t.Errorf("session %d after leaving: %s (%s)", s.ID, s.State, s.CloseReason)
		}
	}
	if s, _ := st.Session(ctx, old.Session.ID); s.State != core.StatePrepared {
		t.Errorf("the invitation past its time is %s; the deadline sweep, not the leave, closes it", s.State)
	}
	rows, err := st.Audit(ctx, core.AuditFilter{Search: "to leave the hub"})
	if err != nil || len(rows) != 2 || rows[0].Event != "session cancelled" {
		t.Errorf("audit of the cancels: %+v, %v", rows, err)
	}
}
