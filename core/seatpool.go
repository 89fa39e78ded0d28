package core

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"adhocstation/core/refusal"
)

// SeatPool is a team's shared seats and its one-open-session-per-profile
// rule across stations (docs/TEAM.md; core/team.Client is one). With a pool
// set, Prepare asks it once the station's own rules passed, inside the
// write that adds the session, so the local record and the team agree: a
// refusal rolls the session back, and a failed write releases the claim.
// The station's SQLite stays the record and the audit.
type SeatPool interface {
	// Claim takes a team seat and the profile's one open session for the
	// session key; a refusal (seat or profile) is a refusal.Refusal.
	Claim(ctx context.Context, key, profileEmail, preparedBy string) error
	// Release frees what Claim took; releasing an unknown key is no error.
	Release(ctx context.Context, key string) error
}

// TeamList is what a SeatPool may also offer: the team's session list, in
// which the station shows its own open sessions (who prepared each, its
// state, whether its PC is online) to the other stations.
type TeamList interface {
	// computer is the PC's name once paired ("" before).
	PublishSession(ctx context.Context, key, preparedBy, state, computer string, pcOnline bool) error
}

// seatPoolBox lets the pool be swapped while prepares run.
type seatPoolBox struct{ p SeatPool }

// TeamKey is a session's key in the team: its local id, so the claim can
// be found again after a restart from the local record alone.
func TeamKey(id int64) string { return strconv.FormatInt(id, 10) }

// errTeamRefused rolls back a Prepare the team refused.
var errTeamRefused = errors.New("the team refused the prepare")

// UseSeatPool makes Prepare claim in p from now on, claims in p for the
// sessions already open (a restart, or joining a team), and releases a
// session's claim when it ends, is cancelled or expires, until ctx ends.
// An open session the pool cannot seat stays open (a user is never cut
// off) and is audited.
func (s *Station) UseSeatPool(ctx context.Context, p SeatPool) error {
	s.pool.Store(&seatPoolBox{p: p})
	sub := s.Subscribe()
	open, err := s.Sessions(ctx, SessionFilter{OpenOnly: true})
	if err != nil {
		sub.Close()
		return err
	}
	list, _ := p.(TeamList)
	for _, sess := range open {
		if err := p.Claim(ctx, TeamKey(sess.ID), sess.ProfileEmail, sess.ProfileName); err != nil {
			text, ok := refusal.Text(err)
			if !ok {
				text = "the team's hub could not be asked"
				s.log.Warn("team claim for an open session", "session", sess.ID, "err", err)
			}
			_ = s.write(ctx, func(tx *sql.Tx) error {
				return s.audit(tx, sess.ProfileID, sess.ID, "team seat not taken", text+" The session stays open.")
			})
		}
	}
	if list != nil { // after the claims, so the pool keeps each entry with its claim
		for _, sess := range open {
			s.publishTeam(ctx, list, sess.ID)
		}
	}
	go func() {
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				s.pool.Store(nil)
				return
			case ev, ok := <-sub.C:
				if !ok {
					return
				}
				switch ev.Kind {
				case EventLagged:
					s.releaseClosed(ctx, p)
				case EventPrepared, EventPaired, EventAccountReady, EventComputerOnline, EventComputerOffline:
					if list != nil {
						s.publishTeam(ctx, list, ev.SessionID)
					}
				case EventEnded, EventCancelled, EventExpired:
					if err := p.Release(context.WithoutCancel(ctx), TeamKey(ev.SessionID)); err != nil {
						// The claim is a lease: not renewed, it runs out by itself.
						s.log.Warn("team release", "session", ev.SessionID, "err", err)
					}
				}
			}
		}
	}()
	return nil
}

// publishTeam shows one session in the team's list as the station has it.
func (s *Station) publishTeam(ctx context.Context, list TeamList, id int64) {
	sess, err := s.Session(ctx, id)
	if err != nil || !sess.State.Open() {
		return
	}
	online, pc := false, ""
	if sess.Computer != nil {
		online, pc = sess.Computer.Online, sess.Computer.Hostname
	}
	if err := list.PublishSession(ctx, TeamKey(id), sess.ProfileName, string(sess.State), pc, online); err != nil {
		// Kept by the pool and put again when the hub answers.
		s.log.Debug("team list", "session", id, "err", err)
	}
}

// HeldKeys is what a SeatPool may also offer: the keys it holds now.
type HeldKeys interface{ Held() []string }

// releaseClosed releases what the pool holds for sessions no longer open:
// after missed events (EventLagged) an end may have gone unseen, and the
// pool would renew that seat for as long as the station runs.
func (s *Station) releaseClosed(ctx context.Context, p SeatPool) {
	h, ok := p.(HeldKeys)
	if !ok {
		return
	}
	// Read under the writer: no Prepare is between its claim and its
	// commit, so a key held for an uncommitted session is not taken for
	// a closed one.
	isOpen := map[string]bool{}
	var held []string
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM sessions WHERE state IN ('prepared', 'active')`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			isOpen[TeamKey(id)] = true
		}
		held = h.Held()
		return rows.Err()
	})
	if err != nil {
		s.log.Warn("team: open sessions not read after missed events", "err", err)
		return
	}
	for _, key := range held {
		if !isOpen[key] {
			if err := p.Release(context.WithoutCancel(ctx), key); err != nil {
				s.log.Warn("team release", "session", key, "err", err)
			}
		}
	}
}

func (s *Station) seatPool() SeatPool {
	if b := s.pool.Load(); b != nil {
		return b.p
	}
	return nil
}
