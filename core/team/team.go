// Package team is a station's side of a team of stations (issue 20,
// docs/TEAM.md): the team's seats, the one-open-session-per-profile rule and
// the team's session list, all in the team's NATS JetStream KV bucket on the
// hub. It is pure Go (no Fyne, no SQLite): the station's SQLite stays its
// own record and audit, and calls this package from its prepare path.
//
// Every claim is a compare-and-set (KV Create, or a publish expecting the
// revision this station last saw); a read never decides who holds a seat.
// Claims are leases: each carries a per-key TTL that the holder renews, so a
// station that crashes or loses the hub frees its seats within the TTL.
package team

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"adhocstation/core/refusal"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// Refusals, with the codes and words of the station's own seat and profile
// refusals (core.ErrNoSeat, core.ErrProfileBusy match them by code).
var (
	ErrNoSeat      = refusal.New("no_seat", "All seats of your team are in use at its stations — end a session to free one.")
	ErrProfileBusy = refusal.New("profile_busy", "Only one ad hoc support session can be active at a time per profile, across the team's stations. End or cancel the current one first (it may be open at another station).")
	ErrRevoked     = refusal.New("team_revoked", "The hub has revoked this station's place in the team, so it works alone now. Ask the hub's admin to enrol the station again.")
	// ErrEndUnreachable: a request to end another station's session needs
	// the team server, which keeps it until that station reads it.
	ErrEndUnreachable = refusal.New("team_end_unreachable", "The team server at the hub is unreachable, so the request to end that session could not be sent. Try again when the hub answers, or ask the technician at that station.")
)

// SeatError says how many seats the team has when none is free. It matches
// ErrNoSeat (and so core.ErrNoSeat, which shares its code).
type SeatError struct {
	Seats   int
	Offline bool // the hub was unreachable: the station's own share was full
}

func (e *SeatError) Error() string {
	if e.Offline {
		return fmt.Sprintf("The hub is unreachable and this station's share of the team's seats (%d) is in use — end a session here to free one, or wait for the hub.", e.Seats)
	}
	return fmt.Sprintf("All %d seats of your team are in use at its stations — end a session to free one.", e.Seats)
}
func (e *SeatError) Is(target error) bool { return target == ErrNoSeat || errors.Is(ErrNoSeat, target) }
func (e *SeatError) RefusalCode() string  { return ErrNoSeat.Code }

// Config of a station's membership.
type Config struct {
	URLs []string // the hub nodes' NATS URLs (tls://HOST:PORT; nats:// on a private network)
	// TLS for the connection (nil: system roots if the hub requires TLS).
	TLS *tls.Config
	// InOrder tries URLs in the order given instead of shuffled (shuffling
	// spreads stations over a cluster's nodes).
	InOrder   bool
	TeamID    string
	StationID string
	// Name and Pin go in this station's presence value, so the other
	// stations show its name and its PCs may accept its certificate (a
	// takeover, docs/TEAM.md): Name as enrolled (its host name), Pin the
	// base64 SHA-256 of its served certificate's public key.
	Name string
	Pin  string
	// UserSeed is the station's NATS user seed (nkeys.CreateUser); only its
	// public key goes to the hub, which signs the JWT.
	UserSeed []byte
	// JWT returns a fresh user JWT from the hub; it is called at every
	// (re)connect, so a JWT that expires is simply replaced.
	JWT func() (string, error)
	// LeaseTTL is how long a claim outlives its holder (default 30 s; at
	// least 1 s, the server's TTL granularity). Renewed every LeaseTTL/3.
	LeaseTTL time.Duration
	Log      *slog.Logger
	// Known is the team as this station last saw it (Client.Known, kept in
	// the station's settings). With it, Open does not fail when the hub is
	// unreachable: the station starts alone on its share of Known and joins
	// the team when the hub answers. Without it, Open needs the hub.
	Known *Known
	// OnReconnect is called after the connection to the hub came back (on
	// a surviving node, in a cluster); with Known, also after the first
	// connection.
	OnReconnect func()
	// OnChange is called (on the watch goroutine) after every change of the
	// team's list, with the new list.
	OnChange func([]Entry)
	// OnEndRequest is called (on the watch goroutine: hand long work to
	// another) for each request from another station to end one of this
	// station's sessions, also those written while it was offline; the
	// same request may come again after a reconnect until DoneEnd.
	OnEndRequest func(EndRequest)
	// OnTakeover is called (on the watch goroutine, likewise) for each
	// notice that another station connected to a PC of one of this
	// station's sessions (took.<this>.<session>.<taker>), also those
	// written while it was offline; the same notice may come again after a
	// reconnect until DoneTakeover.
	OnTakeover func(TakeoverNotice)
	// KnownMembers are the other stations as this station last saw them
	// (Client.Stations, kept by the station): their names and pins are known
	// before they are seen online again in this run.
	KnownMembers map[string]Member
}

// Known is what a station keeps of the team between runs: enough to work
// out its offline share.
type Known struct {
	Seats    int `json:"seats"`
	Stations int `json:"stations"` // stations online, this one included
}

// Entry is one session in the team's list.
type Entry struct {
	Station       string    `json:"station"`
	Session       string    `json:"session"`
	PreparedBy    string    `json:"prepared_by"`        // the technician's name
	State         string    `json:"state"`              // the station's own session state words
	Computer      string    `json:"computer,omitempty"` // the PC's name once paired (a takeover names it)
	PCOnline      bool      `json:"pc_online"`
	Updated       time.Time `json:"updated"`
	StationOnline bool      `json:"-"` // the station's presence lease is live
	StationName   string    `json:"-"` // its name, from its presence ("" when never seen)

	rev uint64 // the bucket revision it was seen at
}

// holder is the value of a seat or profile key.
type holder struct {
	Station string `json:"station"`
	Session string `json:"session"`
	By      string `json:"by,omitempty"`
}

// lease is a key this station holds, with the revision it last wrote.
type lease struct {
	key   string
	value []byte
	rev   uint64
}

// claim is what one open session holds.
type claim struct {
	session, profileKey, by string
	seat, profile           *lease // nil while not held (offline, or lost)
	offline                 bool   // opened while the hub was unreachable
	entry                   *Entry // its line in the team's list, last published
	entryDirty              bool   // entry not yet in the bucket (the hub was away)
}

// Client is a station's membership in its team.
type Client struct {
	cfg    Config
	log    *slog.Logger
	nc     *nats.Conn
	js     jetstream.JetStream
	kv     jetstream.KeyValue // nil until bound (a start with the hub unreachable); under mu
	bucket string

	// opMu serialises lease renewals (reconcile) with releases, so a
	// release never races a renewal of the same key: lease revisions are
	// read and written under it only.
	opMu     sync.Mutex
	mu       sync.Mutex
	claims   map[string]*claim // by session id
	presence *lease
	view     *view // the bucket as last seen
	// published are the sessions this run put in the list, gone those
	// released while their line could not be deleted: reconcile deletes
	// this station's lines that are neither published nor claimed (left by
	// an earlier run that crashed) and those gone.
	published map[string]bool
	gone      map[string]bool
	revoked   bool
	reconcN   chan struct{}
	// members are the stations whose presence was ever seen (or given in
	// KnownMembers): kept when their lease runs out, so an offline
	// station's name and pin stay known. Under mu.
	members map[string]Member
	// revokedIDs are the stations the hub marked revoked (revoked.<ID>),
	// for the run: never members again, their lines not in List. Under mu.
	revokedIDs map[string]bool

	// The watch is started again after every reconnect (rewatch), so the
	// list is current at once instead of when the old consumer's missed
	// heartbeats are noticed; gen tells the old watch's last entries apart.
	rewatch atomic.Bool
	gen     int
	watcher jetstream.KeyWatcher
	wctx    context.Context

	ready     chan struct{} // closed once the first watch pass is read
	readyOnce sync.Once
	stop      context.CancelFunc
	done      sync.WaitGroup
}

// view is the bucket as a watch pass saw it.
type view struct {
	seats    int                 // the team's seat count (config key)
	stations map[string]bool     // stations with a live presence lease
	sessions map[string]Entry    // session key → entry
	seatsBy  map[string]struct{} // seat keys seen held (to try free ones first)
	// knownStations stands in for stations before the first watch pass
	// (a start with the hub unreachable, from Config.Known).
	knownStations int
}

func newView() *view {
	return &view{stations: map[string]bool{}, sessions: map[string]Entry{}, seatsBy: map[string]struct{}{}}
}

// Bucket is the team's KV bucket (the hub makes it).
func Bucket(teamID string) string { return "team_" + teamID }

// InboxPrefix is the only prefix the hub lets this station receive on.
func InboxPrefix(stationID string) string { return "_INBOX_" + stationID }

// ProfileKey names a technician profile across stations: the SHA-256 of its
// lower-case email address, so the bucket holds no addresses.
func ProfileKey(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:16])
}

// Open connects to the hub and starts the watch and the lease renewal. It
// returns once the team's current list is read. If the hub cannot be
// reached it fails, unless cfg.Known is given: then the Client starts alone
// on its share and joins when the hub answers. A Client that loses the hub
// later works on alone the same way (see Prepare) and reconciles after.
func Open(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = 30 * time.Second
	}
	if cfg.LeaseTTL < time.Second {
		return nil, fmt.Errorf("a lease TTL under 1 s (%v) is below the server's granularity", cfg.LeaseTTL)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	kp, err := nkeys.FromSeed(cfg.UserSeed)
	if err != nil {
		return nil, fmt.Errorf("the station's team key is broken: %w", err)
	}
	c := &Client{
		cfg: cfg, log: cfg.Log, bucket: Bucket(cfg.TeamID),
		claims: map[string]*claim{}, view: newView(), published: map[string]bool{}, gone: map[string]bool{}, reconcN: make(chan struct{}, 1), ready: make(chan struct{}),
		members: map[string]Member{}, revokedIDs: map[string]bool{},
	}
	for id, m := range cfg.KnownMembers {
		if validToken(id) && id != cfg.StationID {
			m.Online = false
			c.members[id] = m
		}
	}
	if cfg.Known != nil {
		c.view.seats, c.view.knownStations = cfg.Known.Seats, cfg.Known.Stations
	}
	var optionsRead atomic.Bool
	jwtFn := func() (string, error) {
		// nats.UserJWT calls this once while reading the options, before
		// any dial, to test it: that call is not a connect, and with Known
		// it must not fail because the hub is down (Open would then fail).
		if !optionsRead.Swap(true) {
			return "", nil
		}
		j, err := cfg.JWT()
		if errors.Is(err, ErrRevoked) {
			c.setRevoked()
		}
		return j, err
	}
	connected := func(*nats.Conn) {
		c.rewatch.Store(true)
		c.kick()
		if cfg.OnReconnect != nil {
			cfg.OnReconnect()
		}
	}
	opts := []nats.Option{
		nats.Name("station " + cfg.StationID),
		nats.CustomInboxPrefix(InboxPrefix(cfg.StationID)),
		nats.UserJWT(jwtFn, func(nonce []byte) ([]byte, error) { return kp.Sign(nonce) }),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		nats.Timeout(2 * time.Second),
		nats.ReconnectHandler(connected),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrAuthRevoked) || strings.Contains(strings.ToLower(err.Error()), "revoked") {
				c.setRevoked()
			}
			c.log.Warn("team connection", "err", err)
		}),
	}
	if cfg.TLS != nil {
		opts = append(opts, nats.Secure(cfg.TLS))
	}
	if cfg.InOrder {
		opts = append(opts, nats.DontRandomize())
	}
	if cfg.Known != nil {
		// Open returns even if the first dial fails; the first connection
		// made later counts as a reconnect.
		opts = append(opts, nats.RetryOnFailedConnect(true), nats.ConnectHandler(connected))
	}
	c.nc, err = nats.Connect(strings.Join(cfg.URLs, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("the team's hub could not be reached: %w", err)
	}
	if c.js, err = jetstream.New(c.nc); err != nil {
		c.nc.Close()
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.Background())
	c.stop, c.wctx = cancel, wctx
	if !c.nc.IsConnected() && cfg.Known != nil {
		c.log.Warn("team: the hub is unreachable, this station starts alone on its share", "share", c.OfflineShare())
		c.done.Add(1)
		go c.renew(wctx)
		return c, nil
	}
	if err := c.bind(ctx); err != nil {
		cancel()
		c.nc.Close()
		return nil, err
	}
	c.rewatch.Store(false) // bind started the watch
	c.done.Add(1)
	go c.renew(wctx)
	select {
	case <-c.ready:
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
	// Presence: this station is online while its lease lives. Under opMu:
	// with Known, the first connection kicks the renewal loop, whose
	// reconcile may have created it already.
	b := c.presenceValue()
	c.opMu.Lock()
	c.mu.Lock()
	has := c.presence != nil && c.presence.rev != 0
	c.mu.Unlock()
	if !has {
		if l, err := c.create(ctx, "station."+cfg.StationID, b); err == nil {
			c.mu.Lock()
			c.presence = l
			c.mu.Unlock()
		} else {
			c.log.Warn("team presence", "err", err)
			c.kick()
		}
	}
	c.opMu.Unlock()
	return c, nil
}

// bind finds the team's bucket and starts the watch.
func (c *Client) bind(ctx context.Context) error {
	kv, err := c.js.KeyValue(ctx, c.bucket)
	if err != nil {
		return fmt.Errorf("the team %s is not on the hub (%w): ask the hub's admin to add it", c.cfg.TeamID, err)
	}
	c.mu.Lock()
	c.kv = kv
	c.mu.Unlock()
	return c.startWatch()
}

// store is the bucket, or an error that reads as the hub being away: while
// disconnected nothing is sent (nats.go would buffer it and the caller
// would wait out the JetStream timeout for its answer).
func (c *Client) store() (jetstream.KeyValue, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kv == nil || !c.nc.IsConnected() {
		return nil, nats.ErrDisconnected
	}
	return c.kv, nil
}

func (c *Client) setRevoked() {
	c.mu.Lock()
	c.revoked = true
	c.mu.Unlock()
	c.kick() // the renewal loop closes the connection: no more redials
}

// Known is the team as this station sees it now, for the station to keep
// (Config.Known at its next start).
func (c *Client) Known() Known {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Known{Seats: c.view.seats, Stations: c.onlineLocked()}
}

// Close stops renewing and watching and closes the connection. Held leases
// are not released: they run out within the TTL (use Release first).
func (c *Client) Close() {
	c.stop()
	c.mu.Lock()
	w := c.watcher
	c.mu.Unlock()
	if w != nil && c.nc.IsConnected() { // else Stop would wait for the consumer delete to time out
		_ = w.Stop()
	}
	c.nc.Close() // closes the watch's channel too
	c.done.Wait()
}

// Connected reports whether the hub is reachable now.
func (c *Client) Connected() bool { return c.nc.IsConnected() }

// Revoked reports whether the hub revoked this station.
func (c *Client) Revoked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.revoked
}

// NATS is the connection (tests, diagnostics).
func (c *Client) NATS() *nats.Conn { return c.nc }

func (c *Client) kick() {
	select {
	case c.reconcN <- struct{}{}:
	default:
	}
}

func (c *Client) subject(key string) string { return "$KV." + c.bucket + "." + key }

// create claims key with a fresh lease: KV Create with the lease TTL.
func (c *Client) create(ctx context.Context, key string, value []byte) (*lease, error) {
	kv, err := c.store()
	if err != nil {
		return nil, err
	}
	rev, err := kv.Create(ctx, key, value, jetstream.KeyTTL(c.cfg.LeaseTTL))
	if err != nil {
		return nil, err
	}
	return &lease{key: key, value: value, rev: rev}, nil
}

// refresh renews a lease: the same value again, with a new TTL, only if the
// key is still at the revision this station wrote (compare-and-set).
func (c *Client) refresh(ctx context.Context, l *lease) error {
	ack, err := c.js.PublishMsg(ctx, &nats.Msg{Subject: c.subject(l.key), Data: l.value},
		jetstream.WithExpectLastSequencePerSubject(l.rev), jetstream.WithMsgTTL(c.cfg.LeaseTTL))
	if err != nil {
		return err
	}
	l.rev = ack.Sequence
	return nil
}

// release deletes a lease only if it is still this station's revision.
func (c *Client) release(ctx context.Context, l *lease) error {
	kv, err := c.store()
	if err != nil {
		return err
	}
	return kv.Delete(ctx, l.key, jetstream.LastRevision(l.rev))
}

func isConflict(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// Prepare takes the team's seat and the profile's one open session for a
// new session, before the station writes it to its own SQLite. profileKey
// is ProfileKey(the technician's email); by is the technician's name.
//
// With the hub reachable the answer is the compare-and-set's: the profile
// key is created first (ErrProfileBusy if it exists), then the seats are
// tried one by one with Create (free-looking ones first) until one succeeds
// (*SeatError when none does). With the hub unreachable the station works
// alone on its share (OfflineShare) and claims in the team later.
func (c *Client) Prepare(ctx context.Context, session, profileKey, by string) error {
	c.mu.Lock()
	if _, dup := c.claims[session]; dup {
		c.mu.Unlock()
		return fmt.Errorf("session %s already holds its team seat", session)
	}
	if c.revoked {
		c.mu.Unlock()
		return ErrRevoked
	}
	c.mu.Unlock()
	if !c.nc.IsConnected() {
		return c.prepareOffline(session, profileKey, by)
	}
	val, _ := json.Marshal(holder{Station: c.cfg.StationID, Session: session, By: by})
	cl := &claim{session: session, profileKey: profileKey, by: by}
	p, err := c.create(ctx, "profile."+profileKey, val)
	switch {
	case isConflict(err):
		return ErrProfileBusy
	case err != nil:
		return c.unreachable(err, session, profileKey, by)
	}
	cl.profile = p
	s, err := c.claimSeat(ctx, val)
	if err != nil {
		rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if rerr := c.release(rctx, p); rerr != nil {
			c.log.Warn("team: profile lease not released, it runs out by itself", "err", rerr)
		}
		cancel()
		if errors.Is(err, ErrNoSeat) {
			return err
		}
		return c.unreachable(err, session, profileKey, by)
	}
	cl.seat = s
	c.mu.Lock()
	c.claims[session] = cl
	c.mu.Unlock()
	return nil
}

// unreachable turns a transport failure in the middle of a claim into the
// offline rule, and passes any other error on.
func (c *Client) unreachable(err error, session, profileKey, by string) error {
	if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrDisconnected) || errors.Is(err, jetstream.ErrNoStreamResponse) || !c.nc.IsConnected() {
		c.log.Warn("team: the hub did not answer, preparing on this station's share", "err", err)
		return c.prepareOffline(session, profileKey, by)
	}
	return err
}

// claimSeat tries every seat with Create, the ones not seen held first.
func (c *Client) claimSeat(ctx context.Context, val []byte) (*lease, error) {
	c.mu.Lock()
	n := c.view.seats
	var free, held []string
	for i := 1; i <= n; i++ {
		k := "seat." + strconv.Itoa(i)
		if _, h := c.view.seatsBy[k]; h {
			held = append(held, k)
		} else {
			free = append(free, k)
		}
	}
	c.mu.Unlock()
	if n == 0 {
		return nil, errors.New("the team's seat count is not known yet")
	}
	// Start at a random place so prepares racing for the seats (here or
	// at other stations) do not all try the same seat first.
	if len(free) > 0 {
		r := rand.IntN(len(free))
		free = append(free[r:], free[:r]...)
	}
	for _, k := range append(free, held...) {
		l, err := c.create(ctx, k, val)
		if err == nil {
			return l, nil
		}
		if !isConflict(err) {
			return nil, err
		}
	}
	return nil, &SeatError{Seats: n}
}

// OfflineShare is how many open sessions this station may hold while the
// hub is unreachable: the team's seats divided by the stations last seen
// online (this one included), rounded down, and never less than the seats
// it held when the hub went away. Stations that keep to their shares can
// never together exceed the team's seats.
func (c *Client) OfflineShare() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offlineShareLocked()
}

// onlineLocked counts the stations online, this one included, not a
// revoked one whose presence is still seen.
func (c *Client) onlineLocked() int {
	online := 0
	for id := range c.view.stations {
		if !c.revokedIDs[id] {
			online++
		}
	}
	if !c.view.stations[c.cfg.StationID] {
		online++
	}
	return max(online, c.view.knownStations)
}

func (c *Client) offlineShareLocked() int {
	share := c.view.seats / c.onlineLocked()
	held := 0
	for _, cl := range c.claims {
		if cl.seat != nil {
			held++
		}
	}
	return max(share, held)
}

func (c *Client) prepareOffline(session, profileKey, by string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	share := c.offlineShareLocked()
	if len(c.claims) >= share {
		return &SeatError{Seats: share, Offline: true}
	}
	for _, cl := range c.claims {
		if cl.profileKey == profileKey {
			return ErrProfileBusy
		}
	}
	c.claims[session] = &claim{session: session, profileKey: profileKey, by: by, offline: true}
	return nil
}

// Release frees the session's seat and profile (compare-and-set on the
// revisions this station wrote) and removes it from the team's list.
func (c *Client) Release(ctx context.Context, session string) error {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	c.mu.Lock()
	cl := c.claims[session]
	delete(c.claims, session)
	c.mu.Unlock()
	if cl == nil {
		return nil
	}
	var errs []error
	for _, l := range []*lease{cl.seat, cl.profile} {
		if l != nil {
			if err := c.release(ctx, l); err != nil && !isConflict(err) {
				errs = append(errs, err)
			}
		}
	}
	c.mu.Lock()
	delete(c.published, session)
	c.mu.Unlock()
	if err := c.deleteLine(ctx, session, 0); err != nil {
		c.mu.Lock()
		c.gone[session] = true // deleted when the hub answers
		c.mu.Unlock()
		errs = append(errs, err)
	}
	// A release that does not reach the hub is harmless: the leases are no
	// longer renewed and run out within the TTL.
	return errors.Join(errs...)
}

// Publish puts (or updates) one of this station's sessions in the team's
// list. Station and Updated are filled in. For a session with a claim, an
// entry the hub did not take (unreachable) is put again when it answers.
func (c *Client) Publish(ctx context.Context, e Entry) error {
	e.Station = c.cfg.StationID
	e.Updated = time.Now().UTC()
	c.mu.Lock()
	cl := c.claims[e.Session]
	if cl != nil {
		cl.entry, cl.entryDirty = &e, true
	}
	c.published[e.Session] = true
	delete(c.gone, e.Session)
	c.mu.Unlock()
	err := c.put(ctx, e)
	if err == nil && cl != nil {
		c.mu.Lock()
		if cl.entry != nil && cl.entry.Updated.Equal(e.Updated) {
			cl.entryDirty = false
		}
		c.mu.Unlock()
	}
	return err
}

func (c *Client) put(ctx context.Context, e Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	kv, err := c.store()
	if err != nil {
		return err
	}
	_, err = kv.Put(ctx, "session."+c.cfg.StationID+"."+e.Session, b)
	return err
}

// deleteLine removes one of this station's lines from the list; rev, when
// not 0, is the revision it must still be at.
func (c *Client) deleteLine(ctx context.Context, session string, rev uint64) error {
	kv, err := c.store()
	if err != nil {
		return err
	}
	var opts []jetstream.KVDeleteOpt
	if rev != 0 {
		opts = append(opts, jetstream.LastRevision(rev))
	}
	return kv.Delete(ctx, "session."+c.cfg.StationID+"."+session, opts...)
}

// clearLines deletes this station's lines that are neither published by
// this run nor claimed, and those released while the hub was away. A line
// is deleted only at the revision seen, so one published meanwhile stays.
func (c *Client) clearLines(ctx context.Context) {
	type line struct {
		session string
		rev     uint64
	}
	var stale []line
	c.mu.Lock()
	prefix := "session." + c.cfg.StationID + "."
	for key, e := range c.view.sessions {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		sess := key[len(prefix):]
		if c.gone[sess] || (!c.published[sess] && c.claims[sess] == nil) {
			stale = append(stale, line{sess, e.rev})
		}
	}
	for sess := range c.gone {
		if _, listed := c.view.sessions[prefix+sess]; !listed {
			delete(c.gone, sess) // already gone from the bucket
		}
	}
	c.mu.Unlock()
	for _, l := range stale {
		err := c.deleteLine(ctx, l.session, l.rev)
		if err == nil || isConflict(err) {
			c.mu.Lock()
			delete(c.gone, l.session)
			c.mu.Unlock()
		}
	}
}

// PublishSession is Publish as core.TeamList asks it.
func (c *Client) PublishSession(ctx context.Context, key, preparedBy, state, computer string, pcOnline bool) error {
	return c.Publish(ctx, Entry{Session: key, PreparedBy: preparedBy, State: state, Computer: computer, PCOnline: pcOnline})
}

// List is the team's session list as last seen, by station then session.
func (c *Client) List() []Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.listLocked()
}

func (c *Client) listLocked() []Entry {
	out := make([]Entry, 0, len(c.view.sessions))
	for _, e := range c.view.sessions {
		if c.revokedIDs[e.Station] {
			continue // the hub deletes them; one seen before that is not shown
		}
		e.StationOnline = c.view.stations[e.Station]
		e.StationName = c.members[e.Station].Name
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Station != out[j].Station {
			return out[i].Station < out[j].Station
		}
		return out[i].Session < out[j].Session
	})
	return out
}

// Seats returns the team's seat count and how many seats are seen held.
func (c *Client) Seats() (total, held int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.view.seats, len(c.view.seatsBy)
}

// Holding reports how many sessions of this station hold a team seat, and
// how many are open without one (opened offline, or lost and not retaken).
func (c *Client) Holding() (seated, unseated int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cl := range c.claims {
		if cl.seat != nil {
			seated++
		} else {
			unseated++
		}
	}
	return
}

// startWatch starts a watch pass of the whole bucket; its view replaces
// the current one once its initial values are read.
func (c *Client) startWatch() error {
	c.mu.Lock()
	old := c.watcher
	c.mu.Unlock()
	if old != nil {
		_ = old.Stop()
	}
	kv, err := c.store()
	if err != nil {
		return err
	}
	w, err := kv.WatchAll(c.wctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.gen++
	gen := c.gen
	c.watcher = w
	c.mu.Unlock()
	c.done.Add(1)
	go c.watch(w, gen)
	return nil
}

// watch reads one watch pass: the initial values into a fresh view, then
// every change into the current view, until it is stopped or replaced.
func (c *Client) watch(w jetstream.KeyWatcher, gen int) {
	defer c.done.Done()
	v := newView()
	initial := true
	for e := range w.Updates() {
		c.mu.Lock()
		current := c.gen == gen
		if !current {
			c.mu.Unlock()
			continue // replaced: drain until Stop closes the channel
		}
		if e == nil {
			if initial {
				initial = false
				c.view = v
				c.kick() // seats seen free: unseated sessions may take one
			}
			c.mu.Unlock()
			c.readyOnce.Do(func() { close(c.ready) })
			if c.cfg.OnChange != nil {
				c.cfg.OnChange(c.List())
			}
			continue
		}
		v.apply(e, c.kick)
		c.seeMember(e)
		c.mu.Unlock()
		if r, ok := c.endRequest(e); ok && c.cfg.OnEndRequest != nil {
			c.cfg.OnEndRequest(r)
		}
		if n, ok := c.takeoverNotice(e); ok && c.cfg.OnTakeover != nil {
			c.cfg.OnTakeover(n)
		}
		if !initial && c.cfg.OnChange != nil {
			c.cfg.OnChange(c.List())
		}
	}
}

// apply one entry; freed is called when a seat came free.
func (v *view) apply(e jetstream.KeyValueEntry, freed func()) {
	key, del := e.Key(), e.Operation() != jetstream.KeyValuePut
	switch {
	case key == "config":
		var cfg struct {
			Seats int `json:"seats"`
		}
		if !del && json.Unmarshal(e.Value(), &cfg) == nil {
			v.seats = cfg.Seats
		}
	case strings.HasPrefix(key, "seat."):
		if del {
			delete(v.seatsBy, key)
			freed()
		} else {
			v.seatsBy[key] = struct{}{}
		}
	case strings.HasPrefix(key, "station."):
		if del {
			delete(v.stations, key[len("station."):])
		} else {
			v.stations[key[len("station."):]] = true
		}
	case strings.HasPrefix(key, "session."):
		if del {
			delete(v.sessions, key)
			return
		}
		var en Entry
		if json.Unmarshal(e.Value(), &en) == nil {
			en.rev = e.Revision()
			v.sessions[key] = en
		}
	}
}

// renew keeps every lease alive every TTL/3 and reconciles on a reconnect
// or a freed seat.
func (c *Client) renew(ctx context.Context) {
	defer c.done.Done()
	t := time.NewTicker(c.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.reconcN:
		}
		if c.Revoked() {
			c.nc.Close() // no more redials with a credential the hub refuses
			continue
		}
		if !c.nc.IsConnected() {
			continue
		}
		if _, err := c.store(); err != nil { // started without the hub: join now
			if err := c.bind(ctx); err != nil {
				c.log.Warn("team: the bucket could not be bound", "err", err)
				continue
			}
			c.rewatch.Store(false)
		}
		if c.rewatch.Swap(false) {
			if err := c.startWatch(); err != nil {
				c.rewatch.Store(true) // again at the next tick
				c.log.Warn("team: the watch could not start again", "err", err)
			}
		}
		c.reconcile(ctx)
	}
}

// reconcile renews each lease at its revision; a lease that ran out (the
// hub was unreachable longer than the TTL) is created again; a seat another
// station took meanwhile is replaced by any free seat. Sessions opened
// offline claim their profile and a seat the same way. A session that finds
// no seat stays open (a user is never cut) but unseated, and keeps trying at
// every freed seat; a profile found open elsewhere is logged as a conflict.
func (c *Client) reconcile(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, c.cfg.LeaseTTL/2)
	defer cancel()
	c.opMu.Lock()
	defer c.opMu.Unlock()
	c.mu.Lock()
	claims := make([]*claim, 0, len(c.claims))
	for _, cl := range c.claims {
		claims = append(claims, cl)
	}
	presence := c.presence
	c.mu.Unlock()

	keep := func(l *lease) (*lease, bool) { // renewed, or taken again if gone
		if err := c.refresh(rctx, l); err == nil {
			return l, true
		} else if !isConflict(err) {
			return l, true // transport error: try again next tick
		}
		nl, err := c.create(rctx, l.key, l.value)
		if err != nil {
			return nil, false
		}
		return nl, true
	}
	if presence == nil {
		presence = &lease{key: "station." + c.cfg.StationID, value: c.presenceValue()}
	}
	if presence.rev == 0 {
		if l, err := c.create(rctx, presence.key, presence.value); err == nil {
			presence = l
		}
	} else if l, ok := keep(presence); ok {
		presence = l
	}
	c.mu.Lock()
	c.presence = presence
	c.mu.Unlock()

	full := false
	for _, cl := range claims {
		val, _ := json.Marshal(holder{Station: c.cfg.StationID, Session: cl.session, By: cl.by})
		c.mu.Lock()
		profile, seat := cl.profile, cl.seat
		c.mu.Unlock()
		if profile != nil {
			profile, _ = keep(profile)
		} else if l, err := c.create(rctx, "profile."+cl.profileKey, val); err == nil {
			profile = l
		} else if isConflict(err) {
			c.log.Warn("team: this profile has an open session at another station too (opened while the hub was unreachable)", "session", cl.session)
		}
		if seat != nil {
			if l, ok := keep(seat); ok {
				seat = l
			} else {
				seat = nil
			}
		}
		if seat == nil && !full {
			if l, err := c.claimSeat(rctx, val); err == nil {
				seat = l
			} else if errors.Is(err, ErrNoSeat) {
				full = true // no more tries this pass: each would try every seat
				c.log.Warn("team: no seat free for a session opened while the hub was unreachable; it stays open and takes the next free seat", "session", cl.session)
			}
		}
		c.mu.Lock()
		var entry *Entry
		if c.claims[cl.session] == cl { // not released meanwhile
			cl.profile, cl.seat = profile, seat
			if cl.entryDirty {
				entry = cl.entry
			}
		}
		c.mu.Unlock()
		if entry != nil {
			if err := c.put(rctx, *entry); err == nil {
				c.mu.Lock()
				if cl.entry == entry {
					cl.entryDirty = false
				}
				c.mu.Unlock()
			}
		}
	}
	c.clearLines(rctx)
}

// Claim is Prepare as core.SeatPool asks it: the profile named by its
// email address (ProfileKey), the session by the station's key for it.
func (c *Client) Claim(ctx context.Context, key, profileEmail, preparedBy string) error {
	return c.Prepare(ctx, key, ProfileKey(profileEmail), preparedBy)
}

// Held lists the sessions this station holds claims for (core.HeldKeys).
func (c *Client) Held() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.claims))
	for k := range c.claims {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
