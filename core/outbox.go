package core

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"adhocstation/core/mail"
)

// Mailer delivers one composed message. The real one (Config.Mailer nil)
// speaks SMTP through core/mail; its errors are *mail.Error values, which
// say whether a retry can help. Errors of any other type count as temporary.
type Mailer interface {
	Send(ctx context.Context, cfg SMTPSettings, cred SMTPCredential, from string, to []string, msg []byte) error
}

type smtpMailer struct{}

func (smtpMailer) Send(ctx context.Context, cfg SMTPSettings, cred SMTPCredential, from string, to []string, msg []byte) error {
	srv := mail.Server{Host: cfg.Host, Port: cfg.Port, Security: mail.Security(cfg.Security),
		Username: cfg.Username, Password: cred.Password, Token: cred.Token, CAFile: cfg.CAFile}
	return mail.Send(ctx, srv, from, to, msg)
}

func defaultMailer() Mailer { return smtpMailer{} }

// Retry schedule for temporary failures: 15 s, 30 s, 1 min, ... up to 15
// minutes apart, for as long as the session waits for its user (the
// invitation timeout bounds it).
const (
	firstRetry = 15 * time.Second
	maxRetry   = 15 * time.Minute
	// outboxPoll bounds how long the sender sleeps on the real clock.
	outboxPoll = time.Second
)

// stopGrace is how long a delivery in progress may go on after the
// station is told to stop, and how long recording it as sent may take.
const stopGrace = 5 * time.Second

// outliving returns a context that ends grace after ctx does (or when the
// returned cancel is called).
func outliving(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return c, func() { stop(); cancel() }
}

func backoff(attempt int) time.Duration {
	d := firstRetry
	for i := 1; i < attempt && d < maxRetry; i++ {
		d *= 2
	}
	return min(d, maxRetry)
}

// queueInvitation adds the session's invitation to the outbox inside
// Prepare's transaction: queued when SMTP is configured, otherwise kept as
// not_configured (the technician can still use InvitationMailto).
func (s *Station) queueInvitation(tx *sql.Tx, sess Session, link string) error {
	ctx := context.Background()
	set, err := readSettings(ctx, tx)
	if err != nil {
		return err
	}
	now := s.now()
	inv := invitationFor(sess, link, now, set.Recording.Enabled)
	r, err := mail.RenderInvitation(inv)
	if err != nil {
		return err
	}
	state, from, msg := EmailNotConfigured, "", []byte{}
	if set.SMTP.Configured() {
		state, from = EmailQueued, set.SMTP.Sender
		if msg, err = composeInvitation(set.SMTP, sess, r, now); err != nil {
			return err
		}
	}
	if msg, err = s.keys.sealMessage(msg); err != nil { // it carries the link
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox (session_id, mail_from, rcpt, subject, message, state, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, sess.ID, from, sess.UserEmail, r.Subject, msg, state, ms2(now), ms2(now))
	return err
}

func invitationFor(sess Session, link string, now time.Time, recorded bool) mail.Invitation {
	return mail.Invitation{TechnicianName: sess.ProfileName, TechnicianEmail: sess.ProfileEmail,
		UserEmail: sess.UserEmail, Link: link, ValidFor: sess.InviteExpiresAt.Sub(now).Round(time.Minute),
		ValidUntil: sess.InviteExpiresAt, SessionLength: SessionLength, Recorded: recorded}
}

// composeInvitation builds the MIME message once; retries send the same
// bytes, so a recipient's server can recognise a repeat by its Message-ID.
func composeInvitation(m SMTPSettings, sess Session, r mail.Rendered, now time.Time) ([]byte, error) {
	return mail.Compose(mail.Message{FromName: sess.ProfileName, FromAddress: m.Sender,
		ReplyTo: sess.ProfileEmail, ReplyToName: sess.ProfileName, To: sess.UserEmail,
		Subject: r.Subject, Text: r.Text, HTML: r.HTML, Date: now})
}

// runOutbox delivers queued invitations until ctx ends: at start (resuming
// whatever a previous run left), when woken (Prepare, Resend, settings
// saved) and when a retry falls due.
func (s *Station) runOutbox(ctx context.Context) {
	var seen *Settings // the settings of the previous round
	for {
		next, err := s.deliverDue(ctx, &seen)
		if err != nil && ctx.Err() == nil {
			s.log.Error("outbox round failed", "err", err)
		}
		// Poll on the real clock even when idle: another process on the
		// same database (the command line) may queue mail or change the
		// settings, and the injected clock may jump ahead.
		wait := outboxPoll
		if err == nil && !next.IsZero() {
			wait = min(max(next.Sub(s.now()), 10*time.Millisecond), outboxPoll)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-s.outboxWake:
		case <-t.C:
		}
		t.Stop()
		if ctx.Err() != nil {
			return
		}
	}
}

type outboxItem struct {
	id        int64
	sessionID sql.NullInt64
	from      string
	rcpt      string
	msg       []byte
	attempts  int
	sessState sql.NullString
}

// deliverDue sends every queued message whose time has come and returns
// when the next one falls due (zero: nothing is queued). Only runOutbox
// calls it; *seen carries the settings between rounds.
func (s *Station) deliverDue(ctx context.Context, seen **Settings) (time.Time, error) {
	set, err := s.Settings(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if last := *seen; last == nil || *last != set {
		// At start, invitations that waited for SMTP go out if it is set up
		// now. After a change, queued ones are also recomposed and retried
		// at once: the technician has probably just fixed what held them
		// up, and the link or sender may have changed.
		if set.SMTP.Configured() {
			if err := s.promoteWaiting(ctx, set, last != nil); err != nil {
				return time.Time{}, err
			}
		}
		*seen = &set
	}
	for {
		items, err := s.dueItems(ctx)
		if err != nil {
			return time.Time{}, err
		}
		if len(items) == 0 {
			break
		}
		for _, it := range items {
			if err := s.deliver(ctx, set, it); err != nil {
				return time.Time{}, err
			}
		}
	}
	var next sql.NullInt64
	err = s.rdb.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'queued'`).Scan(&next)
	return fromMS(next), err
}

func (s *Station) dueItems(ctx context.Context) ([]outboxItem, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT o.id, o.session_id, o.mail_from, o.rcpt, o.message, o.attempts, s.state
		FROM outbox o LEFT JOIN sessions s ON s.id = o.session_id
		WHERE o.state = 'queued' AND o.next_attempt_at <= ? ORDER BY o.next_attempt_at LIMIT 20`, ms2(s.now()))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var items []outboxItem
	for rows.Next() {
		var it outboxItem
		if err := rows.Scan(&it.id, &it.sessionID, &it.from, &it.rcpt, &it.msg, &it.attempts, &it.sessState); err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, rows.Err()
}

// deliver sends one message. Before sending it claims the row by counting
// the attempt and scheduling the retry in one conditional update: a crash
// mid-send retries at that time, and no second sender (another round, or
// another process on the same database) can pick the row up meanwhile.
func (s *Station) deliver(ctx context.Context, set Settings, it outboxItem) error {
	now := s.now()
	if it.sessionID.Valid && it.sessState.String != string(StatePrepared) {
		why := "Not sent: the session is no longer waiting for the user (" + it.sessState.String + ")."
		if it.sessState.String == string(StateActive) {
			why = "Not sent: the PC paired before the email went out, so it is no longer needed."
		}
		return s.finish(ctx, it, EmailFailed, why)
	}
	if !set.SMTP.Configured() {
		return s.finish(ctx, it, EmailNotConfigured, "")
	}
	msg, err := s.keys.openMessage(it.msg)
	if err != nil {
		return s.finish(ctx, it, EmailFailed, "Not sent: the stored invitation cannot be opened ("+err.Error()+"). Press Resend to compose it again.")
	}
	attempts := it.attempts + 1
	claimed := false
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = ?, next_attempt_at = ?
			WHERE id = ? AND state = 'queued' AND attempts = ? AND next_attempt_at <= ?`,
			attempts, ms2(now.Add(backoff(attempts))), it.id, it.attempts, ms2(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	if err != nil || !claimed {
		return err // not claimed: another sender has it
	}
	// A stop in the middle of the SMTP exchange lets it finish for a
	// moment: cut off between the server accepting the message and its
	// reply, the station would not know, and would send it again after a
	// restart.
	sendCtx, cancel := outliving(ctx, stopGrace)
	defer cancel()
	err = s.sendMail(sendCtx, set.SMTP, it.from, []string{it.rcpt}, msg)
	switch {
	case err == nil:
		// Record an accepted message even while shutting down, or the
		// restarted station would send it a second time.
		recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopGrace)
		defer cancel()
		return s.finish(recordCtx, it, EmailSent, "")
	case ctx.Err() != nil:
		return ctx.Err() // shutting down: the claim already scheduled the retry
	case mail.IsTemporary(err):
		s.log.Warn("invitation not sent yet, will retry", "outbox", it.id, "attempt", attempts, "err", err)
		return s.finish(ctx, it, EmailQueued, err.Error()+" The station will try again in "+
			mail.Duration(backoff(attempts))+", or press Resend to try now.")
	default:
		s.log.Warn("invitation failed", "outbox", it.id, "err", err)
		return s.finish(ctx, it, EmailFailed, err.Error())
	}
}

// finish records a delivery outcome and tells subscribers.
func (s *Station) finish(ctx context.Context, it outboxItem, state EmailState, lastError string) error {
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		var sent any
		if state == EmailSent {
			sent = ms2(now)
		}
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET state = ?, last_error = ?, sent_at = ? WHERE id = ?`,
			state, lastError, sent, it.id)
		if err != nil || !it.sessionID.Valid || state == EmailQueued {
			return err
		}
		detail := "to " + it.rcpt
		if lastError != "" {
			detail += ": " + lastError
		}
		return s.audit(tx, 0, it.sessionID.Int64, "invitation "+string(state), detail)
	})
	if err != nil {
		return err
	}
	s.publish(Event{Kind: EventEmail, SessionID: it.sessionID.Int64, Detail: string(state)})
	return nil
}

// promoteWaiting queues the invitations kept as not_configured (and, with
// queuedToo, recomposes the queued ones) for sessions that still wait for
// their user.
func (s *Station) promoteWaiting(ctx context.Context, set Settings, queuedToo bool) error {
	ids, err := scanIDs(s.rdb.QueryContext(ctx, `SELECT s.id FROM outbox o JOIN sessions s ON s.id = o.session_id
		WHERE (o.state = 'not_configured' OR (? AND o.state = 'queued')) AND s.state = 'prepared'
		AND o.id = (SELECT MAX(id) FROM outbox WHERE session_id = s.id)`, queuedToo))
	if err != nil {
		return err
	}
	for _, id := range ids {
		err := s.requeue(ctx, set, id, "invitation queued", "with the current settings")
		switch {
		case errors.Is(err, ErrInvitationNotNeeded):
			// Closed since the query: nothing to send.
		case errors.Is(err, errNoLink):
			// One damaged session must not hold up every other invitation.
			s.log.Warn("invitation not queued", "session", id, "err", err)
		case err != nil:
			return err
		}
	}
	return nil
}

// requeue makes the session's newest invitation due now, composed afresh
// with the current link and sender: a queued one is rewritten in place,
// otherwise a new one is added.
func (s *Station) requeue(ctx context.Context, set Settings, id int64, event, detail string) error {
	// A hub joined or left between composing and saving makes the new
	// link's hub differ from the one saved: composed once more then.
	for range 3 {
		if err := s.requeueOnce(ctx, set, id, event, detail); !errors.Is(err, errHubChanged) {
			return err
		}
	}
	return s.requeueOnce(ctx, set, id, event, detail)
}

// errHubChanged: the hub joined changed while an invitation was composed.
var errHubChanged = errors.New("the hub joined changed while the invitation was composed; compose it again")

func (s *Station) requeueOnce(ctx context.Context, set Settings, id int64, event, detail string) error {
	sess, err := s.Session(ctx, id)
	if err != nil {
		return err
	}
	if sess.Token == "" {
		return errNoLink
	}
	now := s.now()
	link, hubURL := s.inviteLink(ctx, set.Pairing, sess.Token)
	r, err := mail.RenderInvitation(invitationFor(sess, link, now, set.Recording.Enabled))
	if err != nil {
		return err
	}
	msg, err := composeInvitation(set.SMTP, sess, r, now)
	if err == nil {
		msg, err = s.keys.sealMessage(msg)
	}
	if err != nil {
		return err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		// Closed meanwhile: its link was forgotten and must not come back.
		var state State
		if err := tx.QueryRowContext(ctx, `SELECT state FROM sessions WHERE id = ?`, id).Scan(&state); err != nil {
			return err
		}
		if state != StatePrepared {
			return ErrInvitationNotNeeded
		}
		// Read under the write lock, as Prepare does: the newest link's hub
		// is what leaving a hub must count (an earlier email's link to
		// another hub is superseded by this one).
		if _, cur := s.inviteLink(ctx, set.Pairing, sess.Token); cur != hubURL {
			return errHubChanged
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET invite_hub = ? WHERE id = ?`, hubURL, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = ?, mail_from = ?, subject = ?, message = ?
			WHERE id = (SELECT MAX(id) FROM outbox WHERE session_id = ?) AND state = 'queued'`,
			ms2(now), set.SMTP.Sender, r.Subject, msg, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (session_id, mail_from, rcpt, subject, message, state, next_attempt_at, created_at)
				VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)`, id, set.SMTP.Sender, sess.UserEmail, r.Subject, msg, ms2(now), ms2(now)); err != nil {
				return err
			}
		}
		return s.audit(tx, sess.ProfileID, id, event, detail)
	})
	if err != nil {
		return err
	}
	s.publish(Event{Kind: EventEmail, SessionID: id, Detail: string(EmailQueued)})
	return nil
}
