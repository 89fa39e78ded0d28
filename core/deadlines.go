package core

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// The deadline engine: Run calls Tick every tickInterval, and Open calls it
// once so whatever fell due while the station was stopped is applied first.

// tickInterval is how often Run checks deadlines; expiry is at most this late.
const tickInterval = time.Second

// offlineAfter is how long a paired PC without a live channel (an app from
// before the channel, which only sends heartbeats) may stay silent before
// it is shown offline.
const offlineAfter = 90 * time.Second

// expiringSoon is when the technician is warned before a session expires.
const expiringSoon = 15 * time.Minute

// Tick applies every deadline that has passed: prepared sessions whose
// invitation timed out are cancelled, active ones past 24 hours expire, and
// silent computers go offline. Each change is audited and published. It
// also writes the summary of a minute of quiet pairing refusals and prunes
// ended rate limits (see flood.go).
func (s *Station) Tick(ctx context.Context) error {
	now := s.now()
	type due struct {
		id, profile int64
		state       State
	}
	var dues []due
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, profile_id, state FROM sessions
		WHERE (state = 'prepared' AND invite_expires_at <= ?) OR (state = 'active' AND expires_at <= ?)`, ms2(now), ms2(now))
	if err != nil {
		return err
	}
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.profile, &d.state); err != nil {
			rows.Close()
			return err
		}
		dues = append(dues, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, d := range dues {
		to, reason, kind := StateExpired, "24 hours after activation", EventExpired
		if d.state == StatePrepared {
			to, reason, kind = StateCancelled, "invitation timed out", EventCancelled
		}
		changed, err := s.close(ctx, d.id, d.state, to, reason)
		if err != nil {
			return err
		}
		if changed {
			s.publish(Event{Kind: kind, SessionID: d.id, Detail: reason})
		}
	}
	if err := s.markOffline(ctx, now); err != nil {
		return err
	}
	if err := s.floodTick(ctx, now); err != nil {
		return err
	}
	s.mu.Lock()
	s.ticks++
	prune := s.ticks%60 == 1
	s.mu.Unlock()
	if prune {
		if err := s.pruneChanges(ctx); err != nil {
			return err
		}
	}
	if err := s.pruneRecordings(ctx); err != nil {
		s.log.Error("deleting old recordings failed", "err", err) // tried again within the hour
	}
	return s.warnExpiring(ctx, now)
}

// close moves a session from one state to a closed one if it is still in
// from, destroying its remaining secrets. It reports whether it changed.
func (s *Station) close(ctx context.Context, id int64, from, to State, reason string) (bool, error) {
	changed := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		var profile int64
		err := tx.QueryRowContext(ctx, `UPDATE sessions SET state = ?, closed_at = ?, close_reason = ?,
			code_hash = NULL, password_sealed = NULL WHERE id = ? AND state = ? RETURNING profile_id`,
			to, ms2(s.now()), reason, id, from).Scan(&profile)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		changed = true
		if _, err := tx.ExecContext(ctx, `UPDATE computers SET online = 0 WHERE session_id = ?`, id); err != nil {
			return err
		}
		return s.audit(tx, profile, id, "session "+string(to), reason)
	})
	return changed, err
}

// markOffline shows computers silent for offlineAfter as offline, except
// those with a live channel (they go offline when it closes).
func (s *Station) markOffline(ctx context.Context, now time.Time) error {
	var ids []int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		ids, err = scanIDs(tx.QueryContext(ctx, `UPDATE computers SET online = 0
			WHERE online = 1 AND last_seen <= ? AND session_id NOT IN (SELECT value FROM json_each(?))
			RETURNING session_id`, ms2(now.Add(-offlineAfter)), s.connectedJSON()))
		return err
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		s.publish(Event{Kind: EventComputerOffline, SessionID: id})
	}
	return nil
}

// warnExpiring tells the technician, once per session, that an active
// session has expiringSoon left.
func (s *Station) warnExpiring(ctx context.Context, now time.Time) error {
	ids, err := scanIDs(s.rdb.QueryContext(ctx, `SELECT id FROM sessions WHERE state = 'active' AND expires_at <= ?`,
		ms2(now.Add(expiringSoon))))
	if err != nil {
		return err
	}
	s.mu.Lock()
	var fresh []int64
	for _, id := range ids {
		if !s.warned[id] {
			s.warned[id] = true
			fresh = append(fresh, id)
		}
	}
	s.mu.Unlock()
	for _, id := range fresh {
		s.publish(Event{Kind: EventExpiringSoon, SessionID: id, Detail: "15 minutes left"})
	}
	return nil
}
