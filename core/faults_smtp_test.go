package core_test

import (
	"strings"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/mail/mailtest"
)

// TestFaultSMTPGoneAndBack: the mail server goes away before a session is
// prepared and stays away through a retry, then comes back on the same
// port. Meanwhile the invitation stays queued, its last error saying the
// server cannot be reached and when the next try is; once the server is
// back the next retry delivers it, once. The port was picked by listening
// on :0; if another program takes it while the server is down, the whole
// scenario starts over on a new port rather than racing for it.
func TestFaultSMTPGoneAndBack(t *testing.T) {
	for try := 1; ; try++ {
		if smtpGoneAndBack(t) {
			return
		}
		if try == 3 {
			t.Fatal("the test SMTP server's port was taken by another program 3 times while it was down")
		}
	}
}

// smtpGoneAndBack runs the scenario once; false means the server could
// not listen on its port again.
func smtpGoneAndBack(t *testing.T) bool {
	m := newMailStation(t, mailtest.StartTLS, mailtest.Password)
	m.srv.Stop()
	_, prep := coretest.MustPrepare(t, m.st, "Maria Tech", "maria@example.com")
	id := prep.Session.ID
	for attempt, next := range []string{"15 seconds", "30 seconds"} {
		if attempt > 0 {
			m.clock.Advance(15 * time.Second)
			m.st.WakeOutbox()
		}
		sess := waitEmail(t, m.st, m.sub, id, core.EmailQueued)
		// What the CLI's "Email:" line and the outbox keep; the code panel
		// shows "Queued — the station is sending the invitation to …".
		if sess.Email.Attempts != attempt+1 || !strings.Contains(sess.Email.LastError, "Cannot reach the mail server") ||
			!strings.Contains(sess.Email.LastError, "try again in "+next) {
			t.Fatalf("server down, attempt %d: %+v", attempt+1, sess.Email)
		}
		t.Logf("attempt %d: %s", sess.Email.Attempts, sess.Email.LastError)
	}
	if err := m.srv.Restart(); err != nil {
		t.Logf("starting over on a new port: %v", err)
		return false
	}
	if got := len(m.srv.Messages()); got != 0 {
		t.Fatalf("%d messages arrived before the retry fell due", got)
	}
	m.clock.Advance(30 * time.Second)
	m.st.WakeOutbox()
	sess := waitEmail(t, m.st, m.sub, id, core.EmailSent)
	if sess.Email.Attempts != 3 || sess.Email.LastError != "" {
		t.Fatalf("after the server came back: %+v", sess.Email)
	}
	// Later rounds send nothing more: the probe is the next message.
	sentOnce(t, m.st, m.clock, m.srv, time.Hour)
	return true
}
