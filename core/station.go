package core

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Config configures Open.
type Config struct {
	DataDir string           // holds station.db, station.key and the TLS files
	Now     func() time.Time // injected clock; nil means time.Now
	Logger  *slog.Logger     // nil discards
	Mailer  Mailer           // nil means the real SMTP mailer
}

// Station is the running station core. Its methods are safe for concurrent use.
type Station struct {
	dir    string
	nowFn  func() time.Time
	log    *slog.Logger
	db     *sql.DB // the single writer connection
	rdb    *sql.DB // readers
	keys   keys
	hub    *hub
	mailer Mailer
	limit  *limiter

	outboxWake chan struct{}

	mu     sync.Mutex
	warned map[int64]bool // sessions already told "15 minutes left"
	list   listCache
	ticks  int
}

// DatabaseFile is the SQLite file's name inside the data folder.
const DatabaseFile = "station.db"

// Open opens (creating if needed) the station in cfg.DataDir, applies
// migrations, reloads the per-address limits and immediately expires or
// times out whatever became overdue while the station was not running.
func Open(cfg Config) (*Station, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("no data folder given")
	}
	if err := makeDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	s := &Station{
		dir:        cfg.DataDir,
		nowFn:      cfg.Now,
		log:        cfg.Logger,
		hub:        newHub(),
		mailer:     cfg.Mailer,
		outboxWake: make(chan struct{}, 1),
		warned:     map[int64]bool{},
	}
	if s.nowFn == nil {
		s.nowFn = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.mailer == nil {
		s.mailer = defaultMailer()
	}
	if err := tightenDataDir(cfg.DataDir); err != nil {
		s.log.Warn("the data folder could not be made private to this user; other users of this computer may read it", "folder", cfg.DataDir, "err", err)
	}
	var err error
	if s.keys, err = loadOrCreateKeys(cfg.DataDir); err != nil {
		return nil, err
	}
	if s.db, s.rdb, err = openDB(s.dbPath()); err != nil {
		return nil, err
	}
	ctx := context.Background()
	if err := migrate(ctx, s.db, 0, s.now(), s.keys); err != nil {
		s.Close()
		return nil, err
	}
	if s.limit, err = loadLimiter(ctx, s.rdb, s.now()); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.Tick(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Station) dbPath() string { return s.dir + string(os.PathSeparator) + DatabaseFile }

// Close closes the database and ends every subscription.
func (s *Station) Close() error {
	s.hub.closeAll()
	var errs []error
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	return errors.Join(errs...)
}

// Now is the station's (injectable) clock, in UTC.
func (s *Station) Now() time.Time { return s.now() }

func (s *Station) now() time.Time { return s.nowFn().UTC() }

// DataDir is the folder holding the station's files.
func (s *Station) DataDir() string { return s.dir }

// Subscribe returns a feed of every change. Publishing never waits for a
// subscriber; one that falls behind receives EventLagged and should reload.
func (s *Station) Subscribe() *Subscription { return s.hub.subscribe() }

func (s *Station) publish(e Event) {
	if e.At.IsZero() {
		e.At = s.now()
	}
	s.hub.publish(e)
}

// write runs fn in one immediate write transaction and commits it.
func (s *Station) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *Station) seal(plain []byte) ([]byte, error) {
	return s.keys.sealWith(plain, []byte("station"))
}

func (s *Station) unseal(sealed []byte) ([]byte, error) {
	return s.keys.unsealWith(sealed, []byte("station"))
}

// tickInterval is how often Run checks deadlines; expiry is at most this late.
const tickInterval = time.Second

// Run drives the background work (deadlines and the outbox) until ctx ends.
// It returns once that work has stopped, a delivery in progress included
// (see stopGrace), so the caller may Close the station right after.
func (s *Station) Run(ctx context.Context) {
	outbox := make(chan struct{})
	go func() { s.runOutbox(ctx); close(outbox) }()
	defer func() { <-outbox }()
	t := time.NewTicker(tickInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("deadline check failed", "err", err)
			}
		}
	}
}

// offlineAfter is how long a paired PC may stay silent before it is shown offline.
const offlineAfter = 90 * time.Second

// expiringSoon is when the technician is warned before a session expires.
const expiringSoon = 15 * time.Minute

// Tick applies every deadline that has passed: prepared sessions whose
// invitation timed out are cancelled, active ones past 24 hours expire, and
// silent computers go offline. Each change is audited and published.
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
	s.mu.Lock()
	s.ticks++
	prune := s.ticks%60 == 1
	s.mu.Unlock()
	if prune {
		if err := s.pruneChanges(ctx); err != nil {
			return err
		}
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

func (s *Station) markOffline(ctx context.Context, now time.Time) error {
	var ids []int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE computers SET online = 0
			WHERE online = 1 AND last_seen <= ? RETURNING session_id`, ms2(now.Add(-offlineAfter)))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		s.publish(Event{Kind: EventComputerOffline, SessionID: id})
	}
	return nil
}

func (s *Station) warnExpiring(ctx context.Context, now time.Time) error {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id FROM sessions WHERE state = 'active' AND expires_at <= ?`,
		ms2(now.Add(expiringSoon)))
	if err != nil {
		return err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
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
	return rows.Err()
}
