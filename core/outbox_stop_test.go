package core_test

import (
	"context"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// A graceful stop at the worst moment — the server has accepted the
// invitation but its reply has not reached the station yet — must still
// leave the invitation recorded as sent: after a restart it is not sent a
// second time.
func TestOutboxStopJustAfterServerAccepted(t *testing.T) {
	first, dir, clock, srv := openMailFolder(t)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	srv.OnAccept(stop) // the station is told to stop before it hears "250 accepted"
	_, prep := coretest.MustPrepare(t, first, "Maria Tech", "maria@example.com")
	stopped := make(chan struct{})
	go func() { first.Run(ctx); close(stopped) }()
	coretest.Await(t, stopped, "Run to return after the stop")
	srv.OnAccept(nil)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(srv.Messages()); got != 1 {
		t.Fatalf("the server accepted %d messages before the stop, want 1", got)
	}

	second := coretest.OpenWith(t, dir, clock, nil)
	if sess, _ := second.Session(t.Context(), prep.Session.ID); sess.Email.State != core.EmailSent {
		t.Errorf("after the restart the invitation is %q (attempts %d), want sent", sess.Email.State, sess.Email.Attempts)
	}
	// A retry would be due by now. Another invitation, queued later, goes
	// out after any such retry (the outbox sends in due order), so once it
	// has arrived the server holds everything the restarted station sent.
	clock.Advance(time.Minute)
	sub := second.Subscribe()
	run(t, second)
	_, probe := coretest.MustPrepare(t, second, "Omar Tech", "omar@example.com")
	waitEmail(t, second, sub, probe.Session.ID, core.EmailSent)
	if got := srv.Messages(); len(got) != 2 {
		t.Fatalf("the server received %d messages across the restart, want the invitation once and the probe", len(got))
	}
}
