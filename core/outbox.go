package core

// STUB by the lead so core compiles; the mail engineer replaces this file.

import (
	"context"
	"database/sql"
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
