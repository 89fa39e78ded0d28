package core

import (
	"context"
	"database/sql"
	"errors"
)

// PrepareRequest is the technician's "Send email and prepare session" form.
type PrepareRequest struct {
	ProfileID int64
	UserEmail string
	Password  string
	Confirm   string
}

// Prepared is what Prepare hands back exactly once.
type Prepared struct {
	Session Session
	Code    string // "482 193 657"; only its keyed hash is stored
	Link    string // the deployment link
}

// Prepare checks the form and the rules, then commits the session, its
// queued invitation and an audit row in one transaction. It returns
// ErrProfileNotFound, an *EmailError, a *PasswordError, ErrPasswordMismatch,
// ErrProfileBusy or a *SeatError (matching ErrNoSeat). Rule refusals are
// audited.
func (s *Station) Prepare(ctx context.Context, req PrepareRequest) (Prepared, error) {
	prof, err := s.profile(ctx, s.rdb, req.ProfileID)
	if err != nil {
		return Prepared{}, err
	}
	email, err := ParseEmail(req.UserEmail)
	if err != nil {
		return Prepared{}, err
	}
	if err := validatePassword(email, req.Password); err != nil {
		return Prepared{}, err
	}
	if req.Password != req.Confirm {
		return Prepared{}, ErrPasswordMismatch
	}
	// The slow, lock-free part first: hashing must not hold the write lock.
	code, err := newCode()
	if err != nil {
		return Prepared{}, err
	}
	token, err := newToken()
	if err != nil {
		return Prepared{}, err
	}
	pwHash, err := hashPassword(req.Password)
	if err != nil {
		return Prepared{}, err
	}
	sealed, err := s.keys.sealWith([]byte(req.Password), []byte(token))
	if err != nil {
		return Prepared{}, err
	}
	sealedToken, err := s.keys.sealToken(token)
	if err != nil {
		return Prepared{}, err
	}
	// Unsalted but keyed, so equal passwords can be found among the open
	// sessions without the hash revealing anything to a database reader.
	pwMAC := s.keys.mac("password", req.Password)
	set, err := s.Settings(ctx)
	if err != nil {
		return Prepared{}, err
	}
	now := s.now().Truncate(1e6)
	sess := Session{
		ProfileID: prof.ID, ProfileName: prof.Name, ProfileEmail: prof.Email, UserEmail: email,
		State: StatePrepared, Token: token, CreatedAt: now, InviteExpiresAt: now.Add(set.InvitationTimeout),
		CodeAttemptsLeft: MaxCodeAttempts,
	}
	var link string
	var refusal error
	pool := s.seatPool()
	claimed := false
	err = s.write(ctx, func(tx *sql.Tx) error {
		var open, busy, reused int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(profile_id = ?), 0),
			COALESCE(SUM(password_mac = ?), 0) FROM sessions
			WHERE state IN ('prepared', 'active')`, prof.ID, pwMAC).Scan(&open, &busy, &reused); err != nil {
			return err
		}
		switch {
		case busy > 0:
			refusal = ErrProfileBusy
		case open >= set.Seats:
			refusal = &SeatError{Seats: set.Seats}
		case reused > 0:
			refusal = ErrPasswordInUse
		}
		if refusal != nil {
			return s.audit(tx, prof.ID, 0, "prepare refused", refusal.Error()+" (for "+email+")")
		}
		// The link is made under the write lock: a hub joined or left by
		// another process meanwhile has committed before it or waits for
		// this row, so invite_hub always names the hub the link goes to.
		var hubURL string
		link, hubURL = s.inviteLink(ctx, set.Pairing, token)
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions (profile_id, user_email, state, token_mac, token_sealed,
			code_hash, code_attempts_left, password_hash, password_sealed, password_mac, created_at, invite_expires_at, invite_hub)
			VALUES (?, ?, 'prepared', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			prof.ID, email, s.keys.tokenMAC(token), sealedToken, s.keys.mac("code", code), MaxCodeAttempts,
			pwHash, sealed, pwMAC, ms2(now), ms2(sess.InviteExpiresAt), hubURL)
		if err != nil {
			return err
		}
		if sess.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		if pool != nil {
			// The team's seat and profile rule, asked with the row written
			// but not committed: a refusal rolls it back (audited below).
			if err := pool.Claim(ctx, TeamKey(sess.ID), prof.Email, prof.Name); err != nil {
				if _, ok := RefusalText(err); ok {
					refusal = err
					return errTeamRefused
				}
				return err
			}
			claimed = true
		}
		if err := s.queueInvitation(tx, sess, link); err != nil {
			return err
		}
		return s.audit(tx, prof.ID, sess.ID, "session prepared", "invitation for "+email)
	})
	if errors.Is(err, errTeamRefused) {
		err = s.write(ctx, func(tx *sql.Tx) error {
			return s.audit(tx, prof.ID, 0, "prepare refused", refusal.Error()+" (for "+email+", by the team)")
		})
		if err != nil {
			return Prepared{}, err
		}
		return Prepared{}, refusal
	}
	if err != nil {
		if claimed {
			if rerr := pool.Release(context.WithoutCancel(ctx), TeamKey(sess.ID)); rerr != nil {
				s.log.Warn("team release after a failed prepare", "err", rerr)
			}
		}
		return Prepared{}, err
	}
	if refusal != nil {
		return Prepared{}, refusal
	}
	s.publish(Event{Kind: EventPrepared, SessionID: sess.ID})
	s.wakeOutbox()
	if sess, err = s.Session(ctx, sess.ID); err != nil {
		return Prepared{}, err
	}
	return Prepared{Session: sess, Code: FormatCode(code), Link: link}, nil
}

func (s *Station) wakeOutbox() {
	select {
	case s.outboxWake <- struct{}{}:
	default:
	}
}

// RegenerateCode gives a prepared session a new security code; the old one
// stops working and the attempt counter starts again. It returns
// ErrSessionNotFound or ErrNotPrepared.
func (s *Station) RegenerateCode(ctx context.Context, id int64) (string, error) {
	code, err := newCode()
	if err != nil {
		return "", err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		var profile int64
		var state State
		err := tx.QueryRowContext(ctx, `SELECT profile_id, state FROM sessions WHERE id = ?`, id).Scan(&profile, &state)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrSessionNotFound
		}
		if err != nil {
			return err
		}
		if state != StatePrepared {
			return ErrNotPrepared
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET code_hash = ?, code_attempts_left = ? WHERE id = ?`,
			s.keys.mac("code", code), MaxCodeAttempts, id); err != nil {
			return err
		}
		return s.audit(tx, profile, id, "code regenerated", "the previous security code no longer works")
	})
	if err != nil {
		return "", err
	}
	s.publish(Event{Kind: EventCodeRegenerated, SessionID: id})
	return FormatCode(code), nil
}

// Cancel cancels a prepared session (the technician's "Cancel session") and
// frees its seat. It returns ErrSessionNotFound or ErrNotPrepared.
func (s *Station) Cancel(ctx context.Context, id int64) error {
	return s.closeBy(ctx, id, StatePrepared, StateCancelled, "cancelled by the technician", EventCancelled, ErrNotPrepared)
}

// End ends an active session now (the technician's "End session now"); a
// prepared one is cancelled instead. The PC removes the account at its next
// heartbeat. It returns ErrSessionNotFound or ErrSessionClosed.
func (s *Station) End(ctx context.Context, id int64) error {
	sess, err := s.Session(ctx, id)
	if err != nil {
		return err
	}
	if sess.State == StatePrepared {
		return s.Cancel(ctx, id)
	}
	return s.closeBy(ctx, id, StateActive, StateEnded, "ended by the technician", EventEnded, ErrSessionClosed)
}

func (s *Station) closeBy(ctx context.Context, id int64, from, to State, reason string, kind EventKind, wrong error) error {
	changed, err := s.close(ctx, id, from, to, reason)
	if err != nil {
		return err
	}
	if !changed {
		if _, err := s.Session(ctx, id); err != nil {
			return err
		}
		return wrong
	}
	s.publish(Event{Kind: kind, SessionID: id, Detail: reason})
	return nil
}

// SessionFilter narrows Sessions.
type SessionFilter struct {
	OpenOnly bool // only prepared and active sessions
	Limit    int  // 0 means no limit
}

const sessionColumns = `s.id, s.profile_id, p.name, p.email, s.user_email, s.state, s.token_sealed, s.created_at,
	s.invite_expires_at, s.activated_at, s.expires_at, s.closed_at, s.close_reason, s.code_attempts_left, s.via_hub, s.invite_hub,
	c.hostname, c.os_name, c.os_version, c.arch, c.windows_user, c.machine_id, c.online, c.last_seen,
	c.account_ready, c.cleaned_up,
	COALESCE(o.state, ''), COALESCE(o.attempts, 0), COALESCE(o.last_error, ''), o.sent_at`

const sessionFrom = ` FROM sessions s JOIN profiles p ON p.id = s.profile_id
	LEFT JOIN computers c ON c.session_id = s.id
	LEFT JOIN outbox o ON o.id = (SELECT MAX(id) FROM outbox WHERE session_id = s.id)`

type scanner interface{ Scan(dest ...any) error }

// scanSession reads one row of sessionColumns; k opens the token of a
// prepared session.
func scanSession(r scanner, k keys) (Session, error) {
	var s Session
	var sealedToken []byte
	var created, invite, activated, expires, closed, lastSeen, sentAt sql.NullInt64
	var host, osName, osVer, arch, user, machine sql.NullString
	var online, ready, cleaned sql.NullBool
	err := r.Scan(&s.ID, &s.ProfileID, &s.ProfileName, &s.ProfileEmail, &s.UserEmail, &s.State, &sealedToken, &created,
		&invite, &activated, &expires, &closed, &s.CloseReason, &s.CodeAttemptsLeft, &s.ViaHub, &s.InviteHub,
		&host, &osName, &osVer, &arch, &user, &machine, &online, &lastSeen, &ready, &cleaned,
		&s.Email.State, &s.Email.Attempts, &s.Email.LastError, &sentAt)
	if err != nil {
		return s, err
	}
	s.Token = k.openToken(sealedToken)
	s.CreatedAt, s.InviteExpiresAt, s.ActivatedAt = fromMS(created), fromMS(invite), fromMS(activated)
	s.ExpiresAt, s.ClosedAt, s.Email.SentAt = fromMS(expires), fromMS(closed), fromMS(sentAt)
	if host.Valid {
		s.Computer = &Computer{Hostname: host.String, OSName: osName.String, OSVersion: osVer.String, Arch: arch.String,
			WindowsUser: user.String, MachineID: machine.String, Online: online.Bool, LastSeen: fromMS(lastSeen),
			AccountReady: ready.Bool, CleanedUp: cleaned.Bool}
	}
	return s, nil
}

// Session returns one session with its computer and email state. It
// returns ErrSessionNotFound.
func (s *Station) Session(ctx context.Context, id int64) (Session, error) {
	sess, err := scanSession(s.rdb.QueryRowContext(ctx, `SELECT `+sessionColumns+sessionFrom+` WHERE s.id = ?`, id), s.keys)
	if errors.Is(err, sql.ErrNoRows) {
		return sess, ErrSessionNotFound
	}
	return sess, err
}

// querySessions runs the session query with an optional WHERE clause.
func (s *Station) querySessions(ctx context.Context, where string, args ...any) ([]Session, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+sessionColumns+sessionFrom+where+` ORDER BY s.id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]Session, 0, 64)
	for rows.Next() {
		sess, err := scanSession(rows, s.keys)
		if err != nil {
			return nil, err
		}
		out = append(out, sess)
	}
	return out, rows.Err()
}

// Seats returns how many seats are free and how many the station has.
func (s *Station) Seats(ctx context.Context) (free, total int, err error) {
	set, err := s.Settings(ctx)
	if err != nil {
		return 0, 0, err
	}
	var open int
	if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE state IN ('prepared', 'active')`).Scan(&open); err != nil {
		return 0, 0, err
	}
	free = set.Seats - open
	if free < 0 {
		free = 0
	}
	return free, set.Seats, nil
}
