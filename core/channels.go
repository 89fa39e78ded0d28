package core

import (
	"context"
	"database/sql"
	"encoding/json"
	"sync"
	"time"

	"adhocstation/core/remote"
)

// Live channels: a paired PC's service keeps one TLS connection to the
// pairing port open (core/pairing serves it). While one is up the PC is
// online; when the last one closes it is offline at once, so the Computers
// page follows the network within the channel's keepalive, not the old
// heartbeat's 90 s.

// channelCount counts the open channels per session: normally one, two
// while a reconnect overlaps the old connection's keepalive timeout.
type channelCount struct {
	mu sync.Mutex
	n  map[int64]int
	// open is the newest channel of each session, which Connect uses.
	open map[int64]remote.StreamOpener
}

// OpenChannel checks an app's agent key for a live channel. For an active
// session it counts the channel, marks the PC online (publishing
// EventComputerOnline when it was offline) and returns the session and the
// function to call once when the channel closes. open (which may be nil)
// opens streams to the PC for Connect until then. A session that is no
// longer active (or whose 24 hours are over, before the deadline engine
// ran) comes back with ErrSessionClosed and its state, so the PC cleans up.
// Other errors: ErrUnknownToken, or the database's.
func (s *Station) OpenChannel(ctx context.Context, agentKey string, open remote.StreamOpener) (Session, func(), error) {
	id, _, state, err := s.agentSession(ctx, s.rdb, agentKey)
	if err != nil {
		return Session{}, nil, err
	}
	sess, err := s.Session(ctx, id)
	if err != nil {
		return Session{}, nil, err
	}
	if state != StateActive {
		return sess, nil, ErrSessionClosed
	}
	if !s.now().Before(sess.ExpiresAt) {
		sess.State = StateExpired
		return sess, nil, ErrSessionClosed
	}
	s.chans.mu.Lock()
	if s.chans.n == nil {
		s.chans.n = map[int64]int{}
	}
	s.chans.n[id]++
	if open != nil {
		if s.chans.open == nil {
			s.chans.open = map[int64]remote.StreamOpener{}
		}
		s.chans.open[id] = open
	}
	s.chans.mu.Unlock()
	var once sync.Once
	release := func() { once.Do(func() { s.channelClosed(id, open) }) }
	if err := s.setOnline(ctx, id, true); err != nil {
		release()
		return Session{}, nil, err
	}
	return sess, release, nil
}

// channelClosed uncounts a channel; the last one takes the PC offline.
func (s *Station) channelClosed(id int64, open remote.StreamOpener) {
	s.chans.mu.Lock()
	if open != nil && s.chans.open[id] == open {
		delete(s.chans.open, id)
	}
	s.chans.n[id]--
	last := s.chans.n[id] <= 0
	if last {
		delete(s.chans.n, id)
	}
	s.chans.mu.Unlock()
	if !last {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.setOnline(ctx, id, false); err != nil {
		s.log.Error("could not mark a computer offline", "session", id, "err", err)
	}
}

// setOnline records the PC's state and publishes a change.
func (s *Station) setOnline(ctx context.Context, id int64, online bool) error {
	changed := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE computers SET online = ?, last_seen = ? WHERE session_id = ? AND online = ?`,
			online, ms2(s.now()), id, !online)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		changed = n > 0
		return err
	})
	if err == nil && changed {
		kind := EventComputerOffline
		if online {
			kind = EventComputerOnline
		}
		s.publish(Event{Kind: kind, SessionID: id})
	}
	return err
}

// ChannelUp reports whether the PC of session id has a live channel now.
func (s *Station) ChannelUp(id int64) bool {
	s.chans.mu.Lock()
	defer s.chans.mu.Unlock()
	return s.chans.n[id] > 0
}

// connectedJSON is the sessions with a live channel as a JSON array, for
// SQL that must leave them alone (json_each).
func (s *Station) connectedJSON() string {
	s.chans.mu.Lock()
	ids := make([]int64, 0, len(s.chans.n))
	for id := range s.chans.n {
		ids = append(ids, id)
	}
	s.chans.mu.Unlock()
	b, _ := json.Marshal(ids)
	return string(b)
}

// opener returns the newest live channel of session id, or nil.
func (s *Station) opener(id int64) remote.StreamOpener {
	s.chans.mu.Lock()
	defer s.chans.mu.Unlock()
	return s.chans.open[id]
}
