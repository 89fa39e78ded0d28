package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Connect's lock after wrong passwords lives in the signin_locks table
// (migration 0005), not in memory: restarting the station must not give
// whoever is guessing five fresh tries. A right password deletes the row;
// a trigger deletes it when the session leaves active. ConnectTeam's lock
// for sessions of other stations of the team (which have no session row
// here) is the same, in team_signin_locks (migration 0007), whose rows are
// deleted by age (pruneTeamLocks).

// signInKey names what a wrong-password count is kept for: a session of
// this station, or (team) a session of another station of the team, by
// its hub id and the session's id there.
type signInKey struct {
	team    bool
	owner   string
	session int64
}

func ownSession(id int64) signInKey { return signInKey{session: id} }

func teamSession(owner string, id int64) signInKey {
	return signInKey{team: true, owner: owner, session: id}
}

// lockRow is where a key's count lives: its table, key columns, their
// placeholders, the condition on them and the key's values.
type lockRow struct {
	table, cols, marks, cond string
	args                     []any
}

func (k signInKey) row() lockRow {
	if !k.team {
		return lockRow{"signin_locks", "session_id", "?", "session_id = ?", []any{k.session}}
	}
	return lockRow{"team_signin_locks", "owner, session", "?, ?", "owner = ? AND session = ?", []any{k.owner, k.session}}
}

// connectLockedUntil is when connecting to k unlocks (zero when it is not
// locked).
func (s *Station) connectLockedUntil(ctx context.Context, k signInKey) (time.Time, error) {
	r := k.row()
	var until int64
	err := s.rdb.QueryRowContext(ctx, `SELECT locked_until FROM `+r.table+` WHERE `+r.cond, r.args...).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) || until == 0 {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(until).UTC(), nil
}

// signInLocked is the refusal while k is locked at now, else nil.
func (s *Station) signInLocked(ctx context.Context, k signInKey, now time.Time) error {
	until, err := s.connectLockedUntil(ctx, k)
	if err != nil {
		return err
	}
	if now.Before(until) {
		return &ConnectLockedError{Until: until, Now: now}
	}
	return nil
}

// countWrongPassword records one more wrong password for k and returns the
// tries left; at none it locks connecting until now+SignInLock and starts
// the count again for after the lock.
func countWrongPassword(ctx context.Context, tx *sql.Tx, k signInKey, now time.Time) (left int, until time.Time, err error) {
	if k.team {
		if err := pruneTeamLocks(ctx, tx, now); err != nil {
			return 0, time.Time{}, err
		}
	}
	r := k.row()
	var wrong int
	err = tx.QueryRowContext(ctx, `INSERT INTO `+r.table+` (`+r.cols+`, wrong, at) VALUES (`+r.marks+`, 1, ?)
		ON CONFLICT (`+r.cols+`) DO UPDATE SET wrong = wrong + 1, at = excluded.at RETURNING wrong`,
		append(r.args, ms2(now))...).Scan(&wrong)
	if err != nil {
		return 0, time.Time{}, err
	}
	left = MaxSignInTries - wrong
	if left > 0 {
		return left, time.Time{}, nil
	}
	until = now.Add(SignInLock)
	_, err = tx.ExecContext(ctx, `UPDATE `+r.table+` SET wrong = 0, locked_until = ? WHERE `+r.cond, append([]any{ms2(until)}, r.args...)...)
	return 0, until, err
}

// forgetWrongPasswords clears k's count after a right password.
func forgetWrongPasswords(ctx context.Context, tx *sql.Tx, k signInKey) error {
	r := k.row()
	_, err := tx.ExecContext(ctx, `DELETE FROM `+r.table+` WHERE `+r.cond, r.args...)
	return err
}

// signInAudit is what a sign-in's audit rows say: the profile and session
// of this station (0, 0 for another station's session), the events' prefix
// ("team " for another station's session), who typed the password and the
// PC's words ("DESKTOP-7QK2", or "… of station A's session 12").
type signInAudit struct {
	profileID, sessionID int64
	prefix, who, pc      string
}

// signedIn forgets k's wrong passwords and writes the sign-in's audit row
// in one transaction.
func (s *Station) signedIn(ctx context.Context, k signInKey, a signInAudit) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := forgetWrongPasswords(ctx, tx, k); err != nil {
			return err
		}
		return s.audit(tx, a.profileID, a.sessionID, a.prefix+"remote sign-in", a.who+" signed in to "+a.pc+" (the PC accepted the password)")
	})
}

// signInFailed audits a sign-in that failed for a reason other than the
// password (why) and returns refused, or the database's error.
func (s *Station) signInFailed(ctx context.Context, a signInAudit, why string, refused error) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return s.audit(tx, a.profileID, a.sessionID, a.prefix+"remote sign-in failed", a.who+" could not sign in to "+a.pc+": "+why)
	})
	if err != nil {
		return err
	}
	return refused
}

// wrongPassword counts a wrong password for k and writes its audit row in
// one transaction, and returns the refusal: *WrongPasswordError with the
// tries left, or *ConnectLockedError at the last.
func (s *Station) wrongPassword(ctx context.Context, k signInKey, a signInAudit, now time.Time) error {
	var refused error
	err := s.write(ctx, func(tx *sql.Tx) error {
		left, until, err := countWrongPassword(ctx, tx, k, now)
		if err != nil {
			return err
		}
		refused = &WrongPasswordError{TriesLeft: left}
		detail := fmt.Sprintf("%s typed a wrong password for %s (%d tries left)", a.who, a.pc, left)
		if left == 0 {
			refused = &ConnectLockedError{Until: until, Now: now}
			detail = fmt.Sprintf("%s typed a wrong password for %s for the %dth time: connecting is locked for 5 minutes", a.who, a.pc, MaxSignInTries)
		}
		return s.audit(tx, a.profileID, a.sessionID, a.prefix+"remote sign-in refused", detail)
	})
	if err != nil {
		return err
	}
	return refused
}

// signInGate lets one sign-in per key check the lock, ask the PC and count
// the answer at a time: otherwise many tries started together all pass the
// check while the first is still at the PC, and each is one more guess than
// the lock allows.
type signInGate struct{ m sync.Map } // signInKey → chan struct{} of capacity 1

// enter waits for k's turn (or ctx) and returns its release.
func (g *signInGate) enter(ctx context.Context, k signInKey) (func(), error) {
	v, _ := g.m.LoadOrStore(k, make(chan struct{}, 1))
	turn := v.(chan struct{})
	select {
	case turn <- struct{}{}:
		return func() { <-turn }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
