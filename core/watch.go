package core

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"strings"
	"sync"
	"time"
)

// watchInterval is how often a running station looks for changes that
// another process (the command line, a second station) committed to its
// database. Each look is one PRAGMA while nothing changed (see
// docs/PERFORMANCE.md), so screens follow such changes within about this.
const watchInterval = 250 * time.Millisecond

// ownChanges remembers which session_changes rows this station's own
// writes produced, so the watcher publishes only the others: this
// station's own events are published by the code that made the change.
type ownChanges struct {
	mu     sync.Mutex
	ranges [][2]int64 // (lo, hi] seq ranges, ascending, merged when adjacent
	// own profile and settings changes published since the watcher's last look
	profiles, settings bool
}

// claim records (lo, hi] as this station's own. write calls it before the
// commit, so a watcher never sees the rows before knowing they are ours.
func (o *ownChanges) claim(lo, hi int64) {
	if hi <= lo {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if n := len(o.ranges); n > 0 && o.ranges[n-1][1] == lo {
		o.ranges[n-1][1] = hi
		return
	}
	o.ranges = append(o.ranges, [2]int64{lo, hi})
}

// unclaim forgets a claim whose transaction did not commit: its seq
// numbers may be handed out again to another process.
func (o *ownChanges) unclaim(lo, hi int64) {
	if hi <= lo {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.ranges) - 1; i >= 0; i-- {
		r := &o.ranges[i]
		if r[0] <= lo && hi <= r[1] {
			if r[0] == lo {
				r[0] = hi
			} else {
				r[1] = lo // a failed commit is the newest claim, so nothing of ours lies above it
			}
			if r[0] >= r[1] {
				o.ranges = append(o.ranges[:i], o.ranges[i+1:]...)
			}
			return
		}
	}
}

// isOwn reports whether seq came from this station.
func (o *ownChanges) isOwn(seq int64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range o.ranges {
		if r[0] < seq && seq <= r[1] {
			return true
		}
	}
	return false
}

// forget drops the ranges at or below upTo, which the watcher has passed for good.
func (o *ownChanges) forget(upTo int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := 0
	for i < len(o.ranges) && o.ranges[i][1] <= upTo {
		i++
	}
	o.ranges = o.ranges[i:]
}

// published notes an event this station published about its own change.
func (o *ownChanges) published(kind EventKind) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch kind {
	case EventProfiles:
		o.profiles = true
	case EventSettings:
		o.settings = true
	}
}

func (o *ownChanges) takeMeta() (profiles, settings bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	profiles, settings = o.profiles, o.settings
	o.profiles, o.settings = false, false
	return profiles, settings
}

// lastChange is the newest session_changes seq visible to q.
func lastChange(ctx context.Context, q queryer) (int64, error) {
	var seq int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM session_changes`).Scan(&seq)
	return seq, err
}

// sessionMark is what the watcher compares to tell which event a change
// made elsewhere stands for.
type sessionMark struct {
	state                State
	code                 []byte
	attempts             int
	paired               bool
	online, ready, clean bool
	email                EmailState
	hostname, reason     string
}

// watcher follows the database for changes made by other processes.
type watcher struct {
	conn    *sql.Conn // a reader held for PRAGMA data_version, which is per connection
	version int64
	seq     int64
	marks   map[int64]sessionMark
	meta    [2][32]byte // fingerprints of the profiles and the settings
}

// runWatcher looks for other processes' changes every watchInterval until
// ctx ends and publishes them like this station's own.
func (s *Station) runWatcher(ctx context.Context) {
	// The watcher's starting point is taken at Open, so what another
	// process commits between Open and Run is published too (the window
	// has already read the database by then).
	w := s.watchBase.Swap(nil)
	if w == nil {
		var err error
		if w, err = s.newWatcher(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Error("cannot follow changes made by other processes", "err", err)
			}
			return
		}
	}
	defer w.conn.Close()
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.watchOnce(ctx, w); err != nil && ctx.Err() == nil {
				s.log.Error("following changes made by other processes failed", "err", err)
			}
		}
	}
}

func (s *Station) newWatcher(ctx context.Context) (*watcher, error) {
	conn, err := s.rdb.Conn(ctx)
	if err != nil {
		return nil, err
	}
	w := &watcher{conn: conn, marks: map[int64]sessionMark{}}
	if err := conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&w.version); err != nil {
		conn.Close()
		return nil, err
	}
	if w.seq, err = lastChange(ctx, conn); err != nil {
		conn.Close()
		return nil, err
	}
	// Open sessions are the ones likely to change; knowing their marks
	// lets a later change be told apart from a new session.
	if err := s.loadMarks(ctx, w, `s.state IN ('prepared', 'active')`); err != nil {
		conn.Close()
		return nil, err
	}
	if w.meta, err = metaPrint(ctx, conn); err != nil {
		conn.Close()
		return nil, err
	}
	return w, nil
}

// watchOnce is one look: nothing but a PRAGMA unless some connection
// committed since the last look.
func (s *Station) watchOnce(ctx context.Context, w *watcher) error {
	var v int64
	if err := w.conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return err
	}
	if v == w.version {
		return nil
	}
	w.version = v
	if err := s.watchSessions(ctx, w); err != nil {
		return err
	}
	return s.watchMeta(ctx, w)
}

func (s *Station) watchSessions(ctx context.Context, w *watcher) error {
	seq, err := lastChange(ctx, w.conn)
	if err != nil || seq == w.seq {
		return err
	}
	rows, err := w.conn.QueryContext(ctx, `SELECT seq, session_id FROM session_changes WHERE seq > ? AND seq <= ?`, w.seq, seq)
	if err != nil {
		return err
	}
	var ids []any
	seen, foreign := map[int64]bool{}, map[int64]bool{}
	for rows.Next() {
		var n, id int64
		if err := rows.Scan(&n, &id); err != nil {
			rows.Close()
			return err
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
		if !s.own.isOwn(n) {
			foreign[id] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	old := make(map[int64]sessionMark, len(ids))
	known := make(map[int64]bool, len(ids))
	for _, id := range ids {
		old[id.(int64)], known[id.(int64)] = w.marks[id.(int64)]
	}
	if len(ids) > 0 {
		if err := s.loadMarks(ctx, w, `s.id IN (?`+strings.Repeat(`, ?`, len(ids)-1)+`)`, ids...); err != nil {
			return err
		}
	}
	w.seq = seq
	s.own.forget(seq)
	for _, id := range ids {
		id := id.(int64)
		cur, ok := w.marks[id]
		if !ok || !foreign[id] {
			continue
		}
		for _, e := range changeEvents(old[id], known[id], cur) {
			e.SessionID = id
			if e.Kind == EventPrepared || e.Kind == EventEmail {
				s.wakeOutbox() // an invitation queued elsewhere goes out from here
			}
			s.emit(e)
		}
	}
	return nil
}

// changeEvents names what changed between two marks of one session, as
// this station would have published it had it made the change itself.
func changeEvents(old sessionMark, known bool, cur sessionMark) []Event {
	var es []Event
	if !known || old.state != cur.state {
		switch cur.state {
		case StatePrepared:
			es = append(es, Event{Kind: EventPrepared})
		case StateActive:
			es = append(es, Event{Kind: EventPaired, Detail: cur.hostname})
		case StateExpired:
			es = append(es, Event{Kind: EventExpired, Detail: cur.reason})
		case StateEnded:
			es = append(es, Event{Kind: EventEnded, Detail: cur.reason})
		case StateCancelled:
			es = append(es, Event{Kind: EventCancelled, Detail: cur.reason})
		}
	} else if cur.state == StatePrepared && cur.code != nil && !bytes.Equal(old.code, cur.code) {
		es = append(es, Event{Kind: EventCodeRegenerated})
	} else if cur.attempts < old.attempts {
		es = append(es, Event{Kind: EventRefused, Detail: "wrong security code"})
	}
	if !known {
		// A new session's invitation: the outbox that delivers it publishes
		// its state, as after a prepare made here.
		return es
	}
	if cur.email != old.email && cur.email != "" {
		es = append(es, Event{Kind: EventEmail, Detail: string(cur.email)})
	}
	if cur.paired && old.paired {
		switch {
		case cur.online && !old.online:
			es = append(es, Event{Kind: EventComputerOnline})
		case !cur.online && old.online && cur.state.Open():
			es = append(es, Event{Kind: EventComputerOffline})
		}
	}
	if cur.ready && !old.ready {
		es = append(es, Event{Kind: EventAccountReady})
	}
	if cur.clean && !old.clean {
		es = append(es, Event{Kind: EventCleanedUp})
	}
	return es
}

func (s *Station) loadMarks(ctx context.Context, w *watcher, where string, args ...any) error {
	rows, err := w.conn.QueryContext(ctx, `SELECT s.id, s.state, s.code_hash, s.code_attempts_left, s.close_reason,
		c.session_id IS NOT NULL, COALESCE(c.online, 0), COALESCE(c.account_ready, 0), COALESCE(c.cleaned_up, 0),
		COALESCE(c.hostname, ''), COALESCE((SELECT state FROM outbox WHERE session_id = s.id ORDER BY id DESC LIMIT 1), '')
		FROM sessions s LEFT JOIN computers c ON c.session_id = s.id WHERE `+where, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var m sessionMark
		if err := rows.Scan(&id, &m.state, &m.code, &m.attempts, &m.reason, &m.paired, &m.online, &m.ready,
			&m.clean, &m.hostname, &m.email); err != nil {
			return err
		}
		w.marks[id] = m
	}
	return rows.Err()
}

// watchMeta publishes EventProfiles and EventSettings for profiles and
// settings changed elsewhere. Own changes are published where they are
// made; when one happened since the last look only the fingerprint moves.
func (s *Station) watchMeta(ctx context.Context, w *watcher) error {
	ownProfiles, ownSettings := s.own.takeMeta()
	p, err := metaPrint(ctx, w.conn)
	if err != nil {
		return err
	}
	if p[0] != w.meta[0] && !ownProfiles {
		s.emit(Event{Kind: EventProfiles})
	}
	if p[1] != w.meta[1] && !ownSettings {
		s.emit(Event{Kind: EventSettings})
	}
	w.meta = p
	return nil
}

// metaPrint fingerprints the profiles and the settings (with the stored
// SMTP password's record, but not the audit head kept beside them): a few
// dozen short rows, read only after some connection committed.
func metaPrint(ctx context.Context, q queryer) ([2][32]byte, error) {
	var profiles, settings, secrets sql.NullString
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT group_concat(id || ':' || name || ':' || email, char(10)) FROM (SELECT * FROM profiles ORDER BY id)),
		(SELECT value FROM settings WHERE key = ?),
		(SELECT group_concat(name || '=' || hex(sealed), char(10)) FROM (SELECT * FROM secrets ORDER BY name))`, settingsKey).
		Scan(&profiles, &settings, &secrets)
	if err != nil {
		return [2][32]byte{}, err
	}
	return [2][32]byte{sha256.Sum256([]byte(profiles.String)),
		sha256.Sum256([]byte(settings.String + "\x00" + secrets.String))}, nil
}
