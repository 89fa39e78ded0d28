package core

// STUB by the lead so core compiles; the mail engineer replaces this file.

import (
	"context"
	"database/sql"
	"errors"
)

// Mailer delivers one composed message.
type Mailer interface {
	Send(ctx context.Context, cfg SMTPSettings, password string, from string, to []string, msg []byte) error
}

func defaultMailer() Mailer { return nil }

func (s *Station) queueInvitation(tx *sql.Tx, sess Session, link string) error {
	_, err := tx.Exec(`INSERT INTO outbox (session_id, mail_from, rcpt, subject, message, state, next_attempt_at, created_at)
		VALUES (?, '', ?, 'Remote support invitation', ?, 'not_configured', 0, ?)`, sess.ID, sess.UserEmail, []byte(link), ms2(s.now()))
	return err
}

func (s *Station) runOutbox(ctx context.Context) { <-ctx.Done() }

// ResendInvitation queues the session's invitation again now (the Resend
// action). STUB: the mail engineer implements it.
func (s *Station) ResendInvitation(ctx context.Context, sessionID int64) error {
	return errors.New("resending is not built yet")
}

// InvitationMailto returns a mailto: URL with the invitation's recipient,
// subject and plain-text body, for the technician's own mail program.
// STUB: the mail engineer implements it.
func (s *Station) InvitationMailto(ctx context.Context, sessionID int64) (string, error) {
	return "", errors.New("not built yet")
}

// SendTestEmail sends a short test message to "to" with the saved settings
// and returns the server's error as the technician should read it.
// STUB: the mail engineer implements it.
func (s *Station) SendTestEmail(ctx context.Context, to string) error {
	return errors.New("sending a test email is not built yet")
}

// SetSMTPPassword keeps the SMTP password in the OS keyring or sealed; ""
// forgets it. STUB: the mail engineer implements it.
func (s *Station) SetSMTPPassword(ctx context.Context, password string) error { return nil }

// HasSMTPPassword reports whether an SMTP password is stored.
// STUB: the mail engineer implements it.
func (s *Station) HasSMTPPassword(ctx context.Context) bool { return false }
