package core

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"adhocstation/core/wire"
)

// PairRequest is what the Support Session app sends with the security code.
type PairRequest struct {
	Token      string
	Code       string
	RemoteAddr string // the connection's address; the port is ignored
	Facts      ComputerFacts
	// ViaHub is the relay hub the request came through (https://HOST[:PORT]),
	// "" when the PC reached the station directly.
	ViaHub string
}

// Paired is the station's answer to a successful pairing.
type Paired struct {
	Session  Session
	Password string // the technician's password, for the remote user account
	AgentKey string // the app's credential for later calls
}

// Invitation returns the session behind a deployment link for the join
// page. It returns ErrUnknownToken, or ErrInvitationExpired for a session
// that is no longer waiting (the session is returned too, for the page).
func (s *Station) Invitation(ctx context.Context, token string) (Session, error) {
	sess, err := scanSession(s.rdb.QueryRowContext(ctx, `SELECT `+sessionColumns+sessionFrom+` WHERE s.token_mac = ?`,
		s.keys.tokenMAC(token)), s.keys)
	if errors.Is(err, sql.ErrNoRows) {
		return sess, ErrUnknownToken
	}
	if err != nil {
		return sess, err
	}
	if sess.State != StatePrepared || !s.now().Before(sess.InviteExpiresAt) {
		return sess, ErrInvitationExpired
	}
	return sess, nil
}

// IsWindows reports whether an OS name from the app is a Windows edition.
func IsWindows(osName string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(osName)), "windows")
}

// Pair checks a security code from a PC and, when it is right and the PC
// runs Windows, activates the session for 24 hours. Refusals, audited (those
// of unknown or unusable links one a minute, then counted; see flood.go):
// *RateLimitError, *FloodError, ErrUnknownToken, ErrInvitationExpired, ErrAlreadyPaired,
// ErrNotWindows, ErrCodeBurned and *CodeError (with the tries left).
func (s *Station) Pair(ctx context.Context, req PairRequest) (Paired, error) {
	now := s.now().Truncate(1e6)
	addr := RateLimitAddress(req.RemoteAddr)
	if answered, refusal := s.screenHopeless(ctx, req, addr, now); answered {
		return Paired{}, refusal
	}
	win, retry, firstRefusal := s.limit.take(addr, now)
	if retry > 0 {
		if firstRefusal {
			// Later refusals in the same minute are answered from memory only,
			// so a flood cannot fill the disk or stall real pairings.
			err := s.write(ctx, func(tx *sql.Tx) error {
				return s.audit(tx, 0, 0, "pairing refused", "rate limited: too many attempts from "+addr+
					"; further refusals this minute are not logged one by one")
			})
			if err != nil {
				return Paired{}, err
			}
			s.publish(Event{Kind: EventRefused, Detail: "rate limited " + addr})
		}
		return Paired{}, &RateLimitError{RetryAfter: retry}
	}
	var out Paired
	var refusal error
	var sessionID int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := saveWindow(ctx, tx, addr, win); err != nil {
			return err
		}
		var st pairState
		err := tx.QueryRowContext(ctx, `SELECT id, profile_id, state, code_hash, code_attempts_left, invite_expires_at,
			password_sealed FROM sessions WHERE token_mac = ?`, s.keys.tokenMAC(req.Token)).
			Scan(&st.id, &st.profile, &st.state, &st.codeHash, &st.attempts, &st.inviteExpires, &st.sealed)
		if errors.Is(err, sql.ErrNoRows) {
			refusal = ErrUnknownToken
			return s.audit(tx, 0, 0, "pairing refused", "unknown deployment link from "+addr)
		}
		if err != nil {
			return err
		}
		sessionID = st.id
		refusal, err = s.checkPair(ctx, tx, &st, req, now)
		if err != nil || refusal != nil {
			if err == nil {
				err = s.audit(tx, st.profile, st.id, "pairing refused", refusal.Error()+" (from "+addr+", "+req.Facts.Hostname+")")
			}
			return err
		}
		out, err = s.activate(ctx, tx, &st, req, now)
		return err
	})
	if err != nil {
		return Paired{}, err
	}
	if refusal != nil {
		s.publish(Event{Kind: EventRefused, SessionID: sessionID, Detail: refusal.Error()})
		return Paired{}, refusal
	}
	s.publish(Event{Kind: EventPaired, SessionID: sessionID, Detail: req.Facts.Hostname})
	if out.Session, err = s.Session(ctx, sessionID); err != nil {
		return Paired{}, err
	}
	return out, nil
}

type pairState struct {
	id, profile   int64
	state         State
	codeHash      []byte
	attempts      int
	inviteExpires sql.NullInt64
	sealed        []byte
}

// checkPair returns the refusal for a pairing attempt, if any, recording a
// wrong code.
func (s *Station) checkPair(ctx context.Context, tx *sql.Tx, st *pairState, req PairRequest, now time.Time) (error, error) {
	switch {
	case st.state == StateActive:
		return ErrAlreadyPaired, nil
	case st.state != StatePrepared || now.UnixMilli() >= st.inviteExpires.Int64:
		return ErrInvitationExpired, nil
	case !IsWindows(req.Facts.OSName):
		return ErrNotWindows, nil
	case st.attempts <= 0 || st.codeHash == nil:
		return ErrCodeBurned, nil
	}
	if hmac.Equal(s.keys.mac("code", normalizeCode(req.Code)), st.codeHash) {
		return nil, nil
	}
	st.attempts--
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET code_attempts_left = ? WHERE id = ?`, st.attempts, st.id); err != nil {
		return nil, err
	}
	if st.attempts == 0 {
		return ErrCodeBurned, nil
	}
	return &CodeError{AttemptsLeft: st.attempts}, nil
}

func (s *Station) activate(ctx context.Context, tx *sql.Tx, st *pairState, req PairRequest, now time.Time) (Paired, error) {
	password, err := s.keys.unsealWith(st.sealed, []byte(req.Token))
	if err != nil {
		return Paired{}, fmt.Errorf("the sealed password of session %d cannot be opened: %w", st.id, err)
	}
	key, err := newAgentKey()
	if err != nil {
		return Paired{}, err
	}
	nowT := now.UnixMilli()
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET state = 'active', activated_at = ?, expires_at = ?,
		code_hash = NULL, agent_key_hash = ?, via_hub = ? WHERE id = ?`,
		nowT, nowT+SessionLength.Milliseconds(), s.keys.mac("agent", key), req.ViaHub, st.id); err != nil {
		return Paired{}, err
	}
	f := req.Facts
	if _, err := tx.ExecContext(ctx, `INSERT INTO computers (session_id, hostname, os_name, os_version, arch,
		windows_user, machine_id, online, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)`,
		st.id, f.Hostname, f.OSName, f.OSVersion, f.Arch, f.WindowsUser, f.MachineID, nowT); err != nil {
		return Paired{}, err
	}
	detail := fmt.Sprintf("paired with %s (%s %s, user %s) from %s", f.Hostname, f.OSName, f.OSVersion, f.WindowsUser, RateLimitAddress(req.RemoteAddr))
	if req.ViaHub != "" {
		detail += " through the hub " + HubHost(req.ViaHub)
	}
	if err := s.audit(tx, st.profile, st.id, "session active", detail); err != nil {
		return Paired{}, err
	}
	return Paired{Password: string(password), AgentKey: key}, nil
}

// agentSession finds the session an app's key belongs to.
func (s *Station) agentSession(ctx context.Context, q queryer, agentKey string) (id, profile int64, state State, err error) {
	err = q.QueryRowContext(ctx, `SELECT id, profile_id, state FROM sessions WHERE agent_key_hash = ?`,
		s.keys.mac("agent", agentKey)).Scan(&id, &profile, &state)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrUnknownToken
	}
	return id, profile, state, err
}

// ConfirmAccount records that the PC created the remote user account and
// destroys the station's sealed copy of the password; a repeat is answered
// but not audited again. It returns ErrUnknownToken for a key that belongs
// to no session.
func (s *Station) ConfirmAccount(ctx context.Context, agentKey string) error {
	var id int64
	fresh := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		var profile int64
		var err error
		if id, profile, _, err = s.agentSession(ctx, tx, agentKey); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET password_sealed = NULL WHERE id = ?`, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE computers SET account_ready = 1 WHERE session_id = ? AND account_ready = 0`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // confirmed before: a repeat is not audited again
		}
		fresh = true
		return s.audit(tx, profile, id, "account created", "the PC created the remote user account; the station's sealed password copy was destroyed")
	})
	if err != nil || !fresh {
		return err
	}
	s.publish(Event{Kind: EventAccountReady, SessionID: id})
	return nil
}

// Heartbeat marks the PC online and returns its session, so the app learns
// when the technician ended it or it expired. It returns ErrUnknownToken.
func (s *Station) Heartbeat(ctx context.Context, agentKey string) (Session, error) {
	var id int64
	wasOnline := true
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if id, _, _, err = s.agentSession(ctx, tx, agentKey); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT online FROM computers WHERE session_id = ?`, id).Scan(&wasOnline); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE computers SET last_seen = ?,
			online = (SELECT state = 'active' FROM sessions WHERE id = ?) WHERE session_id = ?`, ms2(s.now()), id, id)
		return err
	})
	if err != nil {
		return Session{}, err
	}
	sess, err := s.Session(ctx, id)
	if err == nil && !wasOnline && sess.Computer != nil && sess.Computer.Online {
		s.publish(Event{Kind: EventComputerOnline, SessionID: id})
	}
	return sess, err
}

// EndByUser ends the session from the PC ("End support session and remove
// app"). It returns ErrUnknownToken or ErrSessionClosed.
func (s *Station) EndByUser(ctx context.Context, agentKey string) error {
	id, _, state, err := s.agentSession(ctx, s.rdb, agentKey)
	if err != nil {
		return err
	}
	if state != StateActive {
		return ErrSessionClosed
	}
	return s.closeBy(ctx, id, StateActive, StateEnded, "ended by the end user", EventEnded, ErrSessionClosed)
}

// CleanupReceipt records that the PC removed the account and the app. An
// active session is ended by it; a repeat is answered but not audited
// again. It returns ErrUnknownToken.
func (s *Station) CleanupReceipt(ctx context.Context, agentKey, detail string) error {
	return s.CleanupReceiptWithActivity(ctx, agentKey, detail, nil)
}

// CleanupReceiptWithActivity is CleanupReceipt carrying the PC's own
// account of the session (activity.go), audited with the receipt.
func (s *Station) CleanupReceiptWithActivity(ctx context.Context, agentKey, detail string, activity *wire.Activity) error {
	id, _, state, err := s.agentSession(ctx, s.rdb, agentKey)
	if err != nil {
		return err
	}
	if state == StateActive {
		if err := s.closeBy(ctx, id, StateActive, StateEnded, "ended on the PC", EventEnded, ErrSessionClosed); err != nil && !errors.Is(err, ErrSessionClosed) {
			return err
		}
	}
	detail = wire.CleanText(detail, 500)
	fresh := false
	err = s.write(ctx, func(tx *sql.Tx) error {
		var profile int64
		if err := tx.QueryRowContext(ctx, `SELECT profile_id FROM sessions WHERE id = ?`, id).Scan(&profile); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE computers SET cleaned_up = 1, online = 0, last_seen = ? WHERE session_id = ? AND cleaned_up = 0`, ms2(s.now()), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // a repeated receipt is not audited again
		}
		fresh = true
		if err := s.audit(tx, profile, id, "cleanup receipt", "the PC reports: "+detail); err != nil {
			return err
		}
		return s.auditActivity(tx, profile, id, activity)
	})
	if err != nil || !fresh {
		return err
	}
	s.publish(Event{Kind: EventCleanedUp, SessionID: id})
	return nil
}
