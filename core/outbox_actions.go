package core

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"adhocstation/core/mail"
)

// The technician's mail actions: Resend, the mailto: fallback and the
// settings page's test email.

// ResendInvitation queues the session's invitation again now (the Resend
// action), with the current link and settings. It returns
// ErrSessionNotFound, ErrInvitationNotNeeded (matching ErrNotPrepared) when
// the session no longer waits for its user, or ErrSMTPNotConfigured.
func (s *Station) ResendInvitation(ctx context.Context, sessionID int64) error {
	sess, err := s.Session(ctx, sessionID)
	if err != nil {
		return err
	}
	if sess.State != StatePrepared {
		return ErrInvitationNotNeeded
	}
	set, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	if !set.SMTP.Configured() {
		return ErrSMTPNotConfigured
	}
	if err := s.requeue(ctx, set, sessionID, "invitation resent", "to "+sess.UserEmail); err != nil {
		return err
	}
	s.wakeOutbox()
	return nil
}

// InvitationMailto returns a mailto: URL with the invitation's recipient,
// subject and plain-text body, for the technician's own mail program. It
// returns ErrSessionNotFound, or ErrInvitationNotNeeded (matching
// ErrNotPrepared) once the session no longer waits for its user.
func (s *Station) InvitationMailto(ctx context.Context, sessionID int64) (string, error) {
	sess, err := s.Session(ctx, sessionID)
	if err != nil {
		return "", err
	}
	if sess.State != StatePrepared {
		return "", ErrInvitationNotNeeded
	}
	if sess.Token == "" {
		return "", errNoLink
	}
	link, err := s.Link(ctx, sess.Token)
	if err != nil {
		return "", err
	}
	set, err := s.Settings(ctx)
	if err != nil {
		return "", err
	}
	r, err := mail.RenderInvitation(invitationFor(sess, link, s.now(), set.Recording.Enabled))
	if err != nil {
		return "", err
	}
	body := strings.ReplaceAll(r.Text, "\n", "\r\n") // RFC 6068 wants CRLF line breaks
	return "mailto:" + mailtoEscape(sess.UserEmail) + "?subject=" + mailtoEscape(r.Subject) + "&body=" + mailtoEscape(body), nil
}

// mailtoEscape percent-encodes all but RFC 6068's qchar set, so a space is
// %20 (never +) and the URL stays as short as the standard allows: some
// mail programs cut mailto: URLs near 2,000 characters.
func mailtoEscape(v string) string {
	const keep = "-._~!$'()*,;:@"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// SendTestEmail sends a short test message to "to" with the saved settings
// and returns the server's error as the technician should read it: an
// *EmailError for a bad address, ErrSMTPNotConfigured, or a *mail.Error
// saying whether connecting, TLS, signing in or sending failed.
func (s *Station) SendTestEmail(ctx context.Context, to string) error {
	addr, err := ParseEmail(to)
	if err != nil {
		return err
	}
	set, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	if !set.SMTP.Configured() {
		return ErrSMTPNotConfigured
	}
	now := s.now()
	r, err := mail.RenderTest(mail.TestMail{SentAt: now, Server: set.SMTP.Host})
	if err != nil {
		return err
	}
	msg, err := mail.Compose(mail.Message{FromName: "Ad Hoc Support Station", FromAddress: set.SMTP.Sender,
		To: addr, Subject: r.Subject, Text: r.Text, Date: now})
	if err != nil {
		return err
	}
	err = s.sendMail(ctx, set.SMTP, set.SMTP.Sender, []string{addr}, msg)
	outcome := "sent to " + addr
	if err != nil {
		outcome = "failed for " + addr + ": " + err.Error()
	}
	if aerr := s.write(ctx, func(tx *sql.Tx) error { return s.audit(tx, 0, 0, "test email", outcome) }); aerr != nil && err == nil {
		return aerr
	}
	return err
}
