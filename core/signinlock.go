package core

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"
)

// Connect's lock after wrong passwords lives in the signin_locks table
// (migration 0005), not in memory: restarting the station must not give
// whoever is guessing five fresh tries. A right password deletes the row;
// a trigger deletes it when the session leaves active.

// connectLockedUntil is when connecting to the session unlocks (zero when
// it is not locked).
func (s *Station) connectLockedUntil(ctx context.Context, sessionID int64) (time.Time, error) {
	var until int64
	err := s.rdb.QueryRowContext(ctx, `SELECT locked_until FROM signin_locks WHERE session_id = ?`, sessionID).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) || until == 0 {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(until).UTC(), nil
}

// countWrongPassword records one more wrong password and returns the tries
// left; at none it locks connecting until now+SignInLock and starts the
// count again for after the lock.
func countWrongPassword(ctx context.Context, tx *sql.Tx, sessionID int64, now time.Time) (left int, until time.Time, err error) {
	var wrong int
	err = tx.QueryRowContext(ctx, `INSERT INTO signin_locks (session_id, wrong) VALUES (?, 1)
		ON CONFLICT (session_id) DO UPDATE SET wrong = wrong + 1 RETURNING wrong`, sessionID).Scan(&wrong)
	if err != nil {
		return 0, time.Time{}, err
	}
	left = MaxSignInTries - wrong
	if left > 0 {
		return left, time.Time{}, nil
	}
	until = now.Add(SignInLock)
	_, err = tx.ExecContext(ctx, `UPDATE signin_locks SET wrong = 0, locked_until = ? WHERE session_id = ?`, ms2(until), sessionID)
	return 0, until, err
}

// forgetWrongPasswords clears the count after a right password.
func forgetWrongPasswords(ctx context.Context, tx *sql.Tx, sessionID int64) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM signin_locks WHERE session_id = ?`, sessionID)
	return err
}

// signInGate lets one Connect per session check the lock, ask the PC and
// count the answer at a time: otherwise many tries started together all
// pass the check while the first is still at the PC, and each is one more
// guess than the lock allows.
type signInGate struct{ m sync.Map } // session id → chan struct{} of capacity 1

// enter waits for the session's turn (or ctx) and returns its release.
func (g *signInGate) enter(ctx context.Context, sessionID int64) (func(), error) {
	v, _ := g.m.LoadOrStore(sessionID, make(chan struct{}, 1))
	turn := v.(chan struct{})
	select {
	case turn <- struct{}{}:
		return func() { <-turn }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
