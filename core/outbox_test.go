package core_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/mail"
	"adhocstation/core/mail/mailtest"

	gomail "github.com/emersion/go-message/mail"
)

const sender = "support@example.com"

// mailStation is a station whose outbox runs against a real SMTP server.
type mailStation struct {
	st    *core.Station
	clock *coretest.Clock
	srv   *mailtest.Server
	sub   *core.Subscription
}

// configure points st's SMTP settings at srv and stores password.
func configure(t testing.TB, st *core.Station, srv *mailtest.Server, password string) {
	t.Helper()
	set, err := st.Settings(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	set.SMTP = core.SMTPSettings{Host: srv.Host, Port: srv.Port, Security: core.SMTPSecurity(srv.Mode),
		Username: mailtest.Username, Sender: sender, CAFile: srv.CAFile}
	if err := st.SaveSettings(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	if err := st.SetSMTPPassword(t.Context(), password); err != nil {
		t.Fatal(err)
	}
}

// run starts st's background work until the test ends.
func run(t testing.TB, st *core.Station) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { st.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func newMailStation(t *testing.T, mode mailtest.Mode, password string) *mailStation {
	t.Setenv(core.KeyringEnv, "off")
	st, clock := coretest.Open(t)
	srv := mailtest.Start(t, mode)
	configure(t, st, srv, password)
	m := &mailStation{st: st, clock: clock, srv: srv, sub: st.Subscribe()}
	run(t, st)
	return m
}

// openMailFolder opens a station in a fresh folder (keyring off) whose
// invitations go to a new STARTTLS test server; the folder is there to be
// opened again, as after a restart.
func openMailFolder(t *testing.T) (st *core.Station, dir string, clock *coretest.Clock, srv *mailtest.Server) {
	t.Helper()
	t.Setenv(core.KeyringEnv, "off")
	dir, clock, srv = t.TempDir(), coretest.NewClock(coretest.Start), mailtest.Start(t, mailtest.StartTLS)
	st = coretest.OpenWith(t, dir, clock, nil)
	configure(t, st, srv, mailtest.Password)
	return st, dir, clock, srv
}

// waitEmail waits for the session's invitation to reach state and returns
// the session as it then is.
func waitEmail(t *testing.T, st *core.Station, sub *core.Subscription, id int64, state core.EmailState) core.Session {
	t.Helper()
	deadline := time.After(coretest.WaitLimit)
	for {
		select {
		case e := <-sub.C:
			if e.Kind == core.EventEmail && e.SessionID == id && e.Detail == string(state) {
				sess, err := st.Session(t.Context(), id)
				if err != nil {
					t.Fatal(err)
				}
				return sess
			}
		case <-deadline:
			t.Fatalf("session %d: the invitation did not become %s within %v", id, state, coretest.WaitLimit)
		}
	}
}

func TestInvitationDelivered(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode mailtest.Mode
		mech string
	}{{"STARTTLS+PLAIN", mailtest.StartTLS, "PLAIN"}, {"TLS+LOGIN", mailtest.TLS, "LOGIN"}} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMailStation(t, tc.mode, mailtest.Password)
			m.srv.OfferOnly(tc.mech)
			_, prep := coretest.MustPrepare(t, m.st, "Maria Tech", "maria@example.com")
			sess := waitEmail(t, m.st, m.sub, prep.Session.ID, core.EmailSent)
			if sess.Email.Attempts != 1 || sess.Email.LastError != "" || !sess.Email.SentAt.Equal(coretest.Start) {
				t.Fatalf("email status %+v", sess.Email)
			}
			got := m.srv.Wait(1)
			if len(got) != 1 || !got[0].TLS || got[0].AuthMech != tc.mech || got[0].From != sender || got[0].To[0] != "user@example.com" {
				t.Fatalf("received %+v", got)
			}
			checkInvitation(t, got[0].Data, prep)
			// The cached sessions list (fed by triggers on outbox) agrees.
			list, err := m.st.Sessions(t.Context(), core.SessionFilter{OpenOnly: true})
			if err != nil || len(list) != 1 || list[0].Email != sess.Email {
				t.Fatalf("sessions list: %+v, %v", list, err)
			}
		})
	}
}

// checkInvitation parses the message with go-message: both parts carry the
// link and the technician's name, and neither the code nor the password.
func checkInvitation(t *testing.T, data []byte, prep core.Prepared) {
	t.Helper()
	r, err := gomail.CreateReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	from, _ := r.Header.AddressList("From")
	replyTo, _ := r.Header.AddressList("Reply-To")
	to, _ := r.Header.AddressList("To")
	subject, _ := r.Header.Subject()
	msgID, _ := r.Header.MessageID()
	date, _ := r.Header.Date()
	if len(from) != 1 || from[0].Name != "Maria Tech" || from[0].Address != sender {
		t.Errorf("From = %v", from)
	}
	if len(replyTo) != 1 || replyTo[0].Address != "maria@example.com" {
		t.Errorf("Reply-To = %v", replyTo)
	}
	if len(to) != 1 || to[0].Address != "user@example.com" {
		t.Errorf("To = %v", to)
	}
	if !strings.Contains(subject, "Maria Tech") || !strings.HasSuffix(msgID, "@example.com") || !date.Equal(coretest.Start) {
		t.Errorf("Subject %q, Message-ID %q, Date %v", subject, msgID, date)
	}
	parts := map[string]string{}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		typ, _, _ := p.Header.(*gomail.InlineHeader).ContentType()
		body, _ := io.ReadAll(p.Body)
		parts[typ] = string(body)
	}
	if len(parts) != 2 || parts["text/plain"] == "" || parts["text/html"] == "" {
		t.Fatalf("parts: %v", parts)
	}
	digits := strings.ReplaceAll(prep.Code, " ", "")
	for typ, body := range parts {
		for _, want := range []string{prep.Link, "Maria Tech", "maria@example.com", "24 hours", "1 hour",
			"End support session and remove app", "administrator", "security code", "Did not ask for support"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s part lacks %q", typ, want)
			}
		}
		for _, secret := range []string{prep.Code, digits, coretest.Password} {
			if strings.Contains(body, secret) {
				t.Errorf("%s part contains a secret %q", typ, secret)
			}
		}
	}
	if bytes.Contains(data, []byte(digits)) || bytes.Contains(data, []byte(coretest.Password)) {
		t.Error("the raw message contains the code or the password")
	}
}

func TestInvitationWrongSMTPPassword(t *testing.T) {
	m := newMailStation(t, mailtest.StartTLS, "not-the-password")
	_, prep := coretest.MustPrepare(t, m.st, "Maria Tech", "maria@example.com")
	sess := waitEmail(t, m.st, m.sub, prep.Session.ID, core.EmailFailed)
	for _, want := range []string{"refused to sign in", "535", "user name and password"} {
		if !strings.Contains(sess.Email.LastError, want) {
			t.Errorf("LastError %q lacks %q", sess.Email.LastError, want)
		}
	}
	// Not retried: an hour later the server has still seen one AUTH.
	m.clock.Advance(time.Hour - time.Minute)
	m.st.WakeOutbox()
	if err := m.st.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := m.st.SendTestEmail(t.Context(), "x@example.com"); err == nil {
		t.Fatal("test email with a wrong password succeeded")
	}
	if n := m.srv.AuthAttempts(); n != 2 { // the invitation's and the test email's
		t.Fatalf("%d AUTH attempts, want 2", n)
	}
	if sess, _ = m.st.Session(t.Context(), prep.Session.ID); sess.Email.Attempts != 1 || sess.Email.State != core.EmailFailed {
		t.Fatalf("retried: %+v", sess.Email)
	}
}

func TestInvitationServerDownThenUp(t *testing.T) {
	m := newMailStation(t, mailtest.StartTLS, mailtest.Password)
	m.srv.Stop()
	_, prep := coretest.MustPrepare(t, m.st, "Maria Tech", "maria@example.com")
	sess := waitEmail(t, m.st, m.sub, prep.Session.ID, core.EmailQueued)
	if sess.Email.Attempts != 1 || !strings.Contains(sess.Email.LastError, "Cannot reach the mail server") ||
		!strings.Contains(sess.Email.LastError, "try again") {
		t.Fatalf("after the first try: %+v", sess.Email)
	}
	m.srv.Restart()
	m.clock.Advance(15 * time.Second)
	m.st.WakeOutbox()
	sess = waitEmail(t, m.st, m.sub, prep.Session.ID, core.EmailSent)
	if sess.Email.Attempts != 2 || sess.Email.LastError != "" {
		t.Fatalf("after the retry: %+v", sess.Email)
	}
	// Later rounds send nothing more.
	sentOnce(t, m.st, m.clock, m.srv, time.Hour-time.Minute)
}

// TestInvitationServerDiesMidway: the server reads the message and drops
// the connection before accepting it; the retry delivers it exactly once.
func TestInvitationServerDiesMidway(t *testing.T) {
	m := newMailStation(t, mailtest.StartTLS, mailtest.Password)
	m.srv.HangUpDuringData(1)
	_, prep := coretest.MustPrepare(t, m.st, "Maria Tech", "maria@example.com")
	sess := waitEmail(t, m.st, m.sub, prep.Session.ID, core.EmailQueued)
	if sess.Email.Attempts != 1 || !strings.Contains(sess.Email.LastError, "did not accept the message") {
		t.Fatalf("after the drop: %+v", sess.Email)
	}
	m.clock.Advance(15 * time.Second)
	m.st.WakeOutbox()
	waitEmail(t, m.st, m.sub, prep.Session.ID, core.EmailSent)
	sentOnce(t, m.st, m.clock, m.srv, time.Hour-time.Minute)
}

func TestInvitationRecipientRefused(t *testing.T) {
	m := newMailStation(t, mailtest.StartTLS, mailtest.Password)
	m.srv.RefuseRecipient("user@example.com", "No such user here")
	_, prep := coretest.MustPrepare(t, m.st, "Maria Tech", "maria@example.com")
	sess := waitEmail(t, m.st, m.sub, prep.Session.ID, core.EmailFailed)
	if !strings.Contains(sess.Email.LastError, "refused the recipient: 550 5.1.1 No such user here") ||
		strings.Contains(sess.Email.LastError, "try again") {
		t.Fatalf("LastError %q", sess.Email.LastError)
	}
	if sess.State != core.StatePrepared {
		t.Fatalf("the session itself should still work, is %s", sess.State)
	}
	if len(m.srv.Messages()) != 0 {
		t.Fatal("a message was stored")
	}
}

func TestOutboxResumesAfterRestart(t *testing.T) {
	first, dir, clock, srv := openMailFolder(t)
	_, prep := coretest.MustPrepare(t, first, "Maria Tech", "maria@example.com") // nobody runs the outbox
	if sess, _ := first.Session(t.Context(), prep.Session.ID); sess.Email.State != core.EmailQueued {
		t.Fatalf("before the restart: %+v", sess.Email)
	}
	first.Close()

	second := coretest.OpenWith(t, dir, clock, nil)
	sub := second.Subscribe()
	run(t, second)
	waitEmail(t, second, sub, prep.Session.ID, core.EmailSent)
	if got := srv.Wait(1); len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
}

func TestInvitationWithoutSMTP(t *testing.T) {
	t.Setenv(core.KeyringEnv, "off")
	st, _ := coretest.Open(t)
	sub := st.Subscribe()
	run(t, st)
	_, prep := coretest.MustPrepare(t, st, "Maria Tech", "maria@example.com")
	_, other := coretest.MustPrepare(t, st, "Omar Tech", "omar@example.com")
	if prep.Session.Email.State != core.EmailNotConfigured {
		t.Fatalf("email state %q", prep.Session.Email.State)
	}

	raw, err := st.InvitationMailto(t.Context(), prep.Session.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "mailto" || u.Opaque != "user@example.com" || !strings.Contains(q.Get("subject"), "Maria Tech") ||
		!strings.Contains(q.Get("body"), prep.Link) || !strings.Contains(q.Get("body"), "\r\n") ||
		strings.Contains(raw, "+") || strings.Contains(q.Get("body"), strings.ReplaceAll(prep.Code, " ", "")) {
		t.Fatalf("mailto %s", raw)
	}
	if err := st.ResendInvitation(t.Context(), prep.Session.ID); !errors.Is(err, core.ErrSMTPNotConfigured) {
		t.Fatalf("resend without SMTP: %v", err)
	}
	if err := st.SendTestEmail(t.Context(), "a@example.com"); !errors.Is(err, core.ErrSMTPNotConfigured) {
		t.Fatalf("test email without SMTP: %v", err)
	}

	// Configured later: the invitation of the session still waiting goes
	// out; the cancelled session's does not.
	if err := st.Cancel(t.Context(), other.Session.ID); err != nil {
		t.Fatal(err)
	}
	srv := mailtest.Start(t, mailtest.StartTLS)
	configure(t, st, srv, mailtest.Password)
	waitEmail(t, st, sub, prep.Session.ID, core.EmailSent)
	got := srv.Wait(1)
	checkInvitation(t, got[0].Data, prep)
	if cancelled, _ := st.Session(t.Context(), other.Session.ID); cancelled.Email.State != core.EmailNotConfigured {
		t.Fatalf("cancelled session's email %+v", cancelled.Email)
	}
	if _, err := st.InvitationMailto(t.Context(), other.Session.ID); !errors.Is(err, core.ErrNotPrepared) {
		t.Fatalf("mailto for a cancelled session: %v", err)
	}
}

func TestResendInvitation(t *testing.T) {
	m := newMailStation(t, mailtest.StartTLS, mailtest.Password)
	m.srv.RefuseRecipient("user@example.com", "Mailbox full")
	_, prep := coretest.MustPrepare(t, m.st, "Maria Tech", "maria@example.com")
	waitEmail(t, m.st, m.sub, prep.Session.ID, core.EmailFailed)

	m2 := mailtest.Start(t, mailtest.StartTLS)
	configure(t, m.st, m2, mailtest.Password)
	if err := m.st.ResendInvitation(t.Context(), prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	sess := waitEmail(t, m.st, m.sub, prep.Session.ID, core.EmailSent)
	if sess.Email.Attempts != 1 || len(m2.Wait(1)) != 1 {
		t.Fatalf("after resend: %+v", sess.Email)
	}
	if err := m.st.Cancel(t.Context(), prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	if err := m.st.ResendInvitation(t.Context(), prep.Session.ID); !errors.Is(err, core.ErrNotPrepared) {
		t.Fatalf("resend after cancel: %v", err)
	}
	if err := m.st.ResendInvitation(t.Context(), 999); !errors.Is(err, core.ErrSessionNotFound) {
		t.Fatalf("resend of nothing: %v", err)
	}
}

func TestSendTestEmail(t *testing.T) {
	m := newMailStation(t, mailtest.TLS, mailtest.Password)
	if err := m.st.SendTestEmail(t.Context(), "tech@example.com"); err != nil {
		t.Fatal(err)
	}
	got := m.srv.Wait(1)
	if got[0].To[0] != "tech@example.com" || !bytes.Contains(got[0].Data, []byte("Test email from the Ad Hoc Support Station")) {
		t.Fatalf("received %+v", got[0])
	}
	if err := m.st.SendTestEmail(t.Context(), "not an address"); !errors.Is(err, core.ErrInvalidEmail) {
		t.Fatalf("bad address: %v", err)
	}
	if err := m.st.SetSMTPPassword(t.Context(), "wrong"); err != nil {
		t.Fatal(err)
	}
	err := m.st.SendTestEmail(t.Context(), "tech@example.com")
	var me *mail.Error
	if !errors.As(err, &me) || me.Stage != mail.StageAuth || !strings.Contains(err.Error(), "535") {
		t.Fatalf("wrong password: %v", err)
	}
	m.srv.Stop()
	if err := m.st.SendTestEmail(t.Context(), "tech@example.com"); !errors.As(err, &me) || me.Stage != mail.StageConnect {
		t.Fatalf("server down: %v", err)
	}
}

// An invitation still waiting for a retry is not sent once its session is
// cancelled; the technician sees why.
func TestQueuedInvitationOfCancelledSession(t *testing.T) {
	m := newMailStation(t, mailtest.StartTLS, mailtest.Password)
	m.srv.Stop()
	_, prep := coretest.MustPrepare(t, m.st, "Maria Tech", "maria@example.com")
	waitEmail(t, m.st, m.sub, prep.Session.ID, core.EmailQueued)
	if err := m.st.Cancel(t.Context(), prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	m.srv.Restart()
	m.clock.Advance(15 * time.Second)
	m.st.WakeOutbox()
	sess := waitEmail(t, m.st, m.sub, prep.Session.ID, core.EmailFailed)
	if !strings.Contains(sess.Email.LastError, "no longer waiting for the user (cancelled)") {
		t.Fatalf("LastError %q", sess.Email.LastError)
	}
	if err := m.st.SendTestEmail(t.Context(), "probe@example.com"); err != nil {
		t.Fatal(err)
	}
	if got := m.srv.Wait(1); len(got) != 1 || got[0].To[0] != "probe@example.com" {
		t.Fatalf("the cancelled session's invitation went out: %d messages", len(got))
	}
}

// Fixing the settings sends an invitation waiting for a retry at once,
// composed with the new sender and link.
func TestQueuedInvitationFollowsNewSettings(t *testing.T) {
	m := newMailStation(t, mailtest.StartTLS, mailtest.Password)
	m.srv.Stop()
	_, prep := coretest.MustPrepare(t, m.st, "Maria Tech", "maria@example.com")
	waitEmail(t, m.st, m.sub, prep.Session.ID, core.EmailQueued)

	fixed := mailtest.Start(t, mailtest.TLS)
	set, _ := m.st.Settings(t.Context())
	set.SMTP = core.SMTPSettings{Host: fixed.Host, Port: fixed.Port, Security: core.SMTPTLS,
		Username: mailtest.Username, Sender: "helpdesk@example.org", CAFile: fixed.CAFile}
	set.Pairing.PublicHost = "support.example.org"
	if err := m.st.SaveSettings(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	sess := waitEmail(t, m.st, m.sub, prep.Session.ID, core.EmailSent) // no clock advance needed
	got := fixed.Wait(1)
	link, _ := m.st.Link(t.Context(), sess.Token)
	if len(got) != 1 || got[0].From != "helpdesk@example.org" || !bytes.Contains(got[0].Data, []byte(link)) ||
		!strings.Contains(link, "support.example.org") {
		t.Fatalf("received from %q, link %s in it: %v", got[0].From, link, bytes.Contains(got[0].Data, []byte(link)))
	}
}

// Another process on the same database (the command line, a second
// window) queues an invitation: the running station's outbox sends it.
func TestOutboxSendsOtherWritersMail(t *testing.T) {
	running, dir, clock, srv := openMailFolder(t)
	sub := running.Subscribe()
	run(t, running)

	other := coretest.OpenWith(t, dir, clock, nil)
	_, prep := coretest.MustPrepare(t, other, "Maria Tech", "maria@example.com")
	waitEmail(t, running, sub, prep.Session.ID, core.EmailSent)
	if got := srv.Wait(1); len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
}

// Two stations run outboxes on one database: each invitation goes out
// once, because a sender claims a row before sending it.
func TestOutboxTwoSendersSendOnce(t *testing.T) {
	a, dir, clock, srv := openMailFolder(t)
	b := coretest.OpenWith(t, dir, clock, nil)
	subA, subB := a.Subscribe(), b.Subscribe()
	run(t, a)
	run(t, b)
	var ids []int64
	for _, name := range []string{"Ann", "Ben", "Cem"} {
		_, prep := coretest.MustPrepare(t, b, name+" Tech", strings.ToLower(name)+"@example.com")
		ids = append(ids, prep.Session.ID)
	}
	deadline := time.After(coretest.WaitLimit)
	for _, id := range ids {
		for {
			sess, err := a.Session(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if sess.Email.State == core.EmailSent {
				break
			}
			select { // either station may have sent it
			case <-subA.C:
			case <-subB.C:
			case <-deadline:
				t.Fatalf("session %d not sent within %v", id, coretest.WaitLimit)
			}
		}
	}
	if err := a.SendTestEmail(t.Context(), "probe@example.com"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Wait(4); len(got) != 4 || got[3].To[0] != "probe@example.com" {
		t.Fatalf("want 3 invitations then the probe, got %d messages", len(got))
	}
}

// sentOnce checks that an invitation already delivered is not sent again:
// after an hour of outbox rounds on clock, a probe is the next message the
// server gets, right after the one invitation.
func sentOnce(t *testing.T, st *core.Station, clock *coretest.Clock, srv *mailtest.Server, hour time.Duration) {
	t.Helper()
	clock.Advance(hour)
	st.WakeOutbox()
	if err := st.SendTestEmail(t.Context(), "probe@example.com"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Wait(2); len(got) != 2 || got[0].To[0] != "user@example.com" || got[1].To[0] != "probe@example.com" {
		t.Fatalf("want the invitation once, then the probe; got %d messages", len(got))
	}
}
