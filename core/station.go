package core

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"adhocstation/core/refusal"
	"adhocstation/core/wire/landing"
)

// Config configures Open.
type Config struct {
	DataDir string           // holds station.db, station.key and the TLS files
	Now     func() time.Time // injected clock; nil means time.Now
	Logger  *slog.Logger     // nil discards
	Mailer  Mailer           // nil means the real SMTP mailer
	// HTTPClient fetches OAuth tokens for SMTP sign-in; nil means
	// http.DefaultClient (tests pass one trusting their HTTPS server).
	HTTPClient *http.Client
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
	flood  floodGuard
	http   *http.Client
	tokens tokenCache
	chans  channelCount // live channels per session (channels.go)
	signIn signInGate   // one sign-in per session, own or of another station, at a time (signinlock.go)
	rec    recordings   // session recordings (recording.go)
	ends   remoteEnds   // audits of closed remote sessions (remoteclose.go)

	outboxWake chan struct{}
	own        ownChanges              // this station's rows of the change feed, for the watcher
	watchBase  atomic.Pointer[watcher] // the watcher's start, taken at Open; Run takes it

	mu     sync.Mutex
	warned map[int64]bool // sessions already told "15 minutes left"
	list   listCache
	ticks  int

	pool atomic.Pointer[seatPoolBox] // the team's seats, if any (seatpool.go)
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
		http:       cfg.HTTPClient,
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
	w, err := s.newWatcher(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.watchBase.Store(w)
	return s, nil
}

func (s *Station) dbPath() string { return s.dir + string(os.PathSeparator) + DatabaseFile }

// Close closes the database and ends every subscription.
func (s *Station) Close() error {
	// Recordings are sealed into the audit log, also of sessions whose
	// window is still open.
	s.rec.closeAll()
	ctx, cancel := context.WithTimeout(context.Background(), recordingWait)
	if err := s.WaitRecordings(ctx); err != nil {
		s.log.Warn("a recording was not sealed before the station closed", "err", err)
	}
	if err := s.closeRemoteEnds(ctx); err != nil {
		s.log.Warn("a remote session's close was not audited before the station closed", "err", err)
	}
	cancel()
	s.hub.closeAll()
	var errs []error
	if w := s.watchBase.Swap(nil); w != nil { // Run never took it
		errs = append(errs, w.conn.Close())
	}
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
	s.own.published(e.Kind)
	s.emit(e)
}

// emit publishes without noting the event as this station's own change.
func (s *Station) emit(e Event) {
	if e.At.IsZero() {
		e.At = s.now()
	}
	s.hub.publish(e)
}

// write runs fn in one immediate write transaction and commits it. The
// change-feed rows it adds are claimed as this station's own before the
// commit (the immediate lock keeps other writers out meanwhile).
// A full disk under the data folder refuses the write as a whole; nothing
// of it is saved.
func (s *Station) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return diskFull(err)
	}
	before, err := lastChange(ctx, tx)
	if err == nil {
		err = fn(tx)
	}
	var after int64
	if err == nil {
		after, err = lastChange(ctx, tx)
	}
	if err != nil {
		tx.Rollback()
		return diskFull(err)
	}
	s.own.claim(before, after)
	if err := tx.Commit(); err != nil {
		s.own.unclaim(before, after)
		return diskFull(err)
	}
	return nil
}

// ErrStationDiskFull refuses a change the station could not save because
// the disk under its data folder is full.
var ErrStationDiskFull = refusal.New("station_disk_full", "This computer's disk is full, so the station could not save the change and nothing of it was kept. Free some space on the disk that holds the station's data folder, then try again.")

// diskFull turns SQLite's SQLITE_FULL (and a full disk met while writing
// its journal) into ErrStationDiskFull, keeping the cause. SQLITE_FULL is
// known by its fixed message: sqlite3.Error exists only with cgo, and the
// core also builds without it.
func diskFull(err error) error {
	if err != nil && (strings.Contains(err.Error(), "database or disk is full") || landing.DiskFull(err)) {
		return &refusal.Error{Code: ErrStationDiskFull.Code, Message: ErrStationDiskFull.Message, Err: err}
	}
	return err
}

// Run drives the background work (deadlines, the outbox, and following
// changes that other processes make to the database) until ctx ends.
// It returns once that work has stopped, a delivery in progress included
// (see stopGrace), so the caller may Close the station right after.
func (s *Station) Run(ctx context.Context) {
	outbox, watcher := make(chan struct{}), make(chan struct{})
	go func() { s.runOutbox(ctx); close(outbox) }()
	go func() { s.runWatcher(ctx); close(watcher) }()
	defer func() { <-outbox; <-watcher }()
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
