package hubsrv

// A cluster of hubs (docs/HUB.md "Cluster"): the nodes share their relay
// state through the team server's JetStream (hub/team.HubBuckets), so a
// station enrolled at one node is known at all, and a PC's relay or a
// station's data connection arriving at a node that does not hold the
// station's control connection is forwarded to the node that does.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"adhocstation/core/hublink"
	"adhocstation/hub/team"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go/jetstream"
)

// ClusterConfig is this node's part in a cluster of hubs.
type ClusterConfig struct {
	// NodeURL is https://HOST:PORT where the other nodes reach this node's
	// listener. Empty: relays for stations held here cannot be forwarded
	// from other nodes (a one-node hub needs none).
	NodeURL string
	// NodeClient dials the other nodes. Every node serves the hub's public
	// name, so its TLS checks their certificates for that name
	// (tls.Config.ServerName), whatever address NodeURL names.
	NodeClient *http.Client
	// LeaseTTL is how long a node's word that it holds a station's control
	// connection lasts without renewal (renewed every third of it).
	// 0: DefaultLeaseTTL.
	LeaseTTL time.Duration
}

// DefaultLeaseTTL: a killed node's stations reconnect elsewhere within
// seconds and the new node's lease replaces the old at once; the TTL only
// bounds how long a node that lost its JetStream connection is believed.
const DefaultLeaseTTL = 15 * time.Second

// nodeHeader marks a request one node forwarded to another: "ADDR MAC",
// the PC's address and the HMAC (team.Server.NodeMAC) of the request's
// path and that address. A forwarded request is never forwarded again.
const nodeHeader = "X-Adhoc-Hub-Node"

type cluster struct {
	cfg  ClusterConfig
	ts   *team.Server
	poke chan struct{} // a local change to publish (cap 1)
	// rewatch: a node went away (cap 1). A watch whose consumer lived on
	// it notices only after missed heartbeats (10 s and more), so the
	// watches are started again at once.
	rewatch chan struct{}
	ready   chan struct{} // closed once the buckets are open and merged

	mu      sync.Mutex
	b       *team.HubBuckets
	where   map[string]whereEntry // station → the node holding it (from the watch)
	peers   map[string]whereEntry // "node.NAME" → that node's URL (from the watch)
	down    map[string]time.Time  // node URL → when a dial to it failed
	changed chan struct{}         // closed and replaced at each change seen (tests)

	// blindTakeovers (tests): registering a takeover skips this node's view
	// of the table, so the bucket's Create alone decides a conflict.
	blindTakeovers atomic.Bool

	forwarded atomic.Uint64 // relays and data connections forwarded to another node
	held      atomic.Int64  // leases this node holds (tests)

	// Only RunCluster's goroutine touches these.
	kvRec  map[string]kvStation // station → its record as last seen in the bucket
	leases map[string]lease     // stations this node holds, as written to WhereBucket
	// registered: this node's URL is in WhereBucket (renewed with the leases).
	registered bool

	codesMu sync.Mutex
	codes   map[string]bool // code files already published (under codesMu)
}

type whereEntry struct {
	url string
	at  time.Time
}

type kvStation struct {
	st  *station
	rev uint64
}

type lease struct {
	rev uint64
	c   *control
}

// SetCluster makes this node share its relay state with the other nodes
// of its team server's cluster (SetTeam first); RunCluster does the work.
// Call before Serve.
func (s *Server) SetCluster(cfg ClusterConfig) {
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	cfg.NodeURL = strings.TrimRight(cfg.NodeURL, "/")
	cl := &cluster{cfg: cfg, poke: make(chan struct{}, 1), rewatch: make(chan struct{}, 1), ready: make(chan struct{}),
		where: map[string]whereEntry{}, peers: map[string]whereEntry{}, down: map[string]time.Time{}, changed: make(chan struct{}),
		kvRec: map[string]kvStation{}, leases: map[string]lease{}, codes: map[string]bool{}}
	s.mu.Lock()
	cl.ts = s.team
	s.cl = cl
	s.state.onSave = cl.pokeNow
	s.mu.Unlock()
}

func (s *Server) cluster() *cluster {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cl
}

func (cl *cluster) pokeNow() {
	select {
	case cl.poke <- struct{}{}:
	default:
	}
}

// clusterPoke tells the cluster loop that something local changed (a
// control connection came or went).
func (s *Server) clusterPoke() {
	if cl := s.cluster(); cl != nil {
		cl.pokeNow()
	}
}

func (cl *cluster) isReady() bool {
	select {
	case <-cl.ready:
		return true
	default:
		return false
	}
}

// ClusterReady is closed once this node shares its state (nil: no cluster).
func (s *Server) ClusterReady() <-chan struct{} {
	if cl := s.cluster(); cl != nil {
		return cl.ready
	}
	return nil
}

// RunCluster shares this node's relay state until ctx ends: it opens the
// hub's buckets (waiting for JetStream), merges the stations' records both
// ways, publishes the enrolment codes printed at this node and which
// stations hold their control connection here, and watches the other
// nodes' words.
func (s *Server) RunCluster(ctx context.Context) error {
	cl := s.cluster()
	if cl == nil || cl.ts == nil {
		return errors.New("hubsrv: RunCluster without SetTeam and SetCluster")
	}
	var b *team.HubBuckets
	for logged := false; ; {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var err error
		b, err = cl.ts.HubBuckets(actx, CodeLifetime+time.Hour, cl.cfg.LeaseTTL)
		cancel()
		if err == nil {
			break
		}
		if !logged {
			s.log.Info("cluster: waiting for the team server's JetStream", "err", err)
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(250 * time.Millisecond):
		}
	}
	cl.mu.Lock()
	cl.b = b
	cl.mu.Unlock()

	var stW, whW, tkW jetstream.KeyWatcher
	watch := func(kv jetstream.KeyValue) jetstream.KeyWatcher {
		for ctx.Err() == nil {
			w, err := kv.WatchAll(ctx)
			if err == nil {
				return w
			}
			s.log.Warn("cluster: watch failed, trying again", "bucket", kv.Bucket(), "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
		}
		return nil
	}
	if stW, whW, tkW = watch(b.Stations), watch(b.Where), watch(b.Takeovers); stW == nil || whW == nil || tkW == nil {
		return nil
	}
	defer func() {
		for _, w := range []jetstream.KeyWatcher{stW, whW, tkW} {
			if w != nil { // nil: ctx ended while watching again
				w.Stop()
			}
		}
	}()

	// The stations' records already in the bucket first: a node starting
	// with an old stations.json must not write it over newer records.
	initial := true
	for initial {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-stW.Updates():
			switch {
			case !ok:
				stW = watch(b.Stations)
				if stW == nil {
					return nil
				}
			case e == nil:
				initial = false
			default:
				s.mergeEntry(cl, e)
			}
		}
	}
	s.pushStations(ctx, cl)
	s.publishCodes(ctx, cl)
	s.syncLeases(ctx, cl, false) // this node's URL, and the stations already here
	close(cl.ready)
	s.log.Info("cluster: sharing relay state", "node", cl.ts.NodeName(), "url", cl.cfg.NodeURL, "stations", len(cl.kvRec))

	renew := time.NewTicker(cl.cfg.LeaseTTL / 3)
	defer renew.Stop()
	routes := cl.ts.NATS().NumRoutes()
	var rewatched time.Time
	var rewatchLater <-chan time.Time
	var replay map[string]bool        // leases the where watch replayed since it started again
	var tkReplay map[takeoverKey]bool // the same for the takeovers' watch
	codes := time.NewTicker(2 * time.Second)
	defer codes.Stop()
	var retry <-chan time.Time
	for {
		var failed bool
		select {
		case <-ctx.Done():
			s.dropLeases(cl)
			return nil
		case e, ok := <-stW.Updates():
			if !ok {
				if stW = watch(b.Stations); stW == nil {
					return nil
				}
				continue
			}
			if e != nil {
				s.mergeEntry(cl, e)
			}
			continue
		case e, ok := <-whW.Updates():
			switch {
			case !ok:
				if whW = watch(b.Where); whW == nil {
					return nil
				}
				replay = map[string]bool{}
			case e != nil:
				if replay != nil {
					replay[e.Key()] = true
				}
				cl.seeWhere(e)
			case replay != nil:
				// The new watch replayed every lease alive: those it did
				// not name were deleted while the old watch lagged.
				cl.mu.Lock()
				for _, m := range []map[string]whereEntry{cl.where, cl.peers} {
					for k := range m {
						if !replay[k] {
							delete(m, k)
						}
					}
				}
				cl.mu.Unlock()
				replay = nil
			}
			continue
		case e, ok := <-tkW.Updates():
			switch {
			case !ok:
				if tkW = watch(b.Takeovers); tkW == nil {
					return nil
				}
				tkReplay = map[takeoverKey]bool{}
			case e != nil:
				if k, ok := parseTakeoverKVKey(e.Key()); ok && tkReplay != nil && e.Operation() == jetstream.KeyValuePut {
					tkReplay[k] = true
				}
				s.seeTakeover(cl, e)
			case tkReplay != nil:
				s.forgetUnseenTakeovers(cl, tkReplay)
				tkReplay = nil
			}
			continue
		case <-cl.poke:
			failed = !s.pushStations(ctx, cl) || !s.syncLeases(ctx, cl, false)
		case <-retry:
			retry = nil
			failed = !s.pushStations(ctx, cl) || !s.syncLeases(ctx, cl, false)
		case <-renew.C:
			failed = !s.syncLeases(ctx, cl, true)
			failed = !s.renewTakeovers(ctx, cl) || failed
			n := cl.ts.NATS().NumRoutes()
			if n < routes {
				cl.rewatchNow() // a node went away
			}
			routes = n
		case <-rewatchLater:
			rewatchLater = nil
			cl.rewatchNow()
			continue
		case <-cl.rewatch:
			if wait := cl.cfg.LeaseTTL/3 - time.Since(rewatched); wait > 0 {
				// Just done: once more after a pause, not in a loop.
				if rewatchLater == nil {
					rewatchLater = time.After(wait)
				}
				continue
			}
			rewatched = time.Now()
			stW.Stop()
			whW.Stop()
			tkW.Stop()
			// The old leases and takeovers stay in use while the new
			// watches replay the live ones (then those not replayed go).
			if stW, whW, tkW = watch(b.Stations), watch(b.Where), watch(b.Takeovers); stW == nil || whW == nil || tkW == nil {
				return nil
			}
			replay = map[string]bool{}
			tkReplay = map[takeoverKey]bool{}
			s.log.Info("cluster: watches started again after a node went away")
			continue
		case <-codes.C:
			s.publishCodes(ctx, cl)
		}
		if failed && retry == nil {
			retry = time.After(250 * time.Millisecond)
		}
	}
}

// mergeStation is the union of two records of one station: the NATS keys
// of both, revoked at the earlier revocation. The same on every node
// whatever the order, so the nodes agree without a leader of their own.
func mergeStation(a, b *station) *station {
	if a == nil {
		a, b = b, nil
	}
	m := *a
	m.TeamKeys = slices.Clone(a.TeamKeys)
	if b != nil {
		if m.SecretHash == "" {
			m.Name, m.PublicKey, m.SecretHash, m.Enrolled, m.Team = b.Name, b.PublicKey, b.SecretHash, b.Enrolled, b.Team
		}
		for _, k := range b.TeamKeys {
			if !slices.Contains(m.TeamKeys, k) {
				m.TeamKeys = append(m.TeamKeys, k)
			}
		}
		if m.Revoked.IsZero() || (!b.Revoked.IsZero() && b.Revoked.Before(m.Revoked)) {
			m.Revoked = b.Revoked
		}
	}
	slices.Sort(m.TeamKeys)
	return &m
}

func sameStation(a, b *station) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

const stationKeyPrefix = "st."

// mergeEntry takes a station's record from the bucket into this node's
// state (and stations.json). A revocation made at another node closes the
// station's control connection here too.
func (s *Server) mergeEntry(cl *cluster, e jetstream.KeyValueEntry) {
	id, ok := strings.CutPrefix(e.Key(), stationKeyPrefix)
	if !ok || e.Operation() != jetstream.KeyValuePut {
		return
	}
	var rec station
	if err := json.Unmarshal(e.Value(), &rec); err != nil || rec.SecretHash == "" {
		s.log.Warn("cluster: a station record could not be read", "station", id, "err", err)
		return
	}
	cl.kvRec[id] = kvStation{&rec, e.Revision()}
	s.mu.Lock()
	local := s.state.Stations[id]
	m := mergeStation(local, &rec)
	var cut *control
	if !sameStation(m, local) {
		s.state.Stations[id] = m
		if err := s.state.save(s.dir); err != nil {
			s.log.Error("cluster: saving a station's record", "station", id, "err", err)
		}
		if (local == nil || local.Revoked.IsZero()) && !m.Revoked.IsZero() {
			cut = s.online[id]
			delete(s.online, id)
		}
	}
	s.mu.Unlock()
	if cut != nil {
		cut.ws.Close(4003, "station revoked")
		s.log.Info("station revoked at another node: cut here", "station", id)
	}
	cl.notify()
}

// pushStations writes to the bucket every local record the bucket lacks
// or has less of, at the revision seen (a concurrent write elsewhere is
// read back and merged). It reports whether all went through.
func (s *Server) pushStations(ctx context.Context, cl *cluster) bool {
	s.mu.Lock()
	var todo []string
	for id, st := range s.state.Stations {
		if !sameStation(mergeStation(st, cl.kvRec[id].st), cl.kvRec[id].st) {
			todo = append(todo, id)
		}
	}
	s.mu.Unlock()
	ok := true
	for _, id := range todo {
		if err := s.pushStation(ctx, cl, id); err != nil {
			s.log.Warn("cluster: a station's record could not be shared yet", "station", id, "err", err)
			ok = false
			break // the next pass tries again
		}
	}
	return ok
}

func (s *Server) pushStation(ctx context.Context, cl *cluster, id string) error {
	for range 5 {
		s.mu.Lock()
		local := s.state.Stations[id]
		var m *station
		if local != nil {
			m = mergeStation(local, cl.kvRec[id].st)
		}
		s.mu.Unlock()
		if m == nil {
			return nil
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var rev uint64
		if prev := cl.kvRec[id]; prev.rev == 0 {
			rev, err = cl.b.Stations.Create(wctx, stationKeyPrefix+id, b)
		} else {
			rev, err = cl.b.Stations.Update(wctx, stationKeyPrefix+id, b, prev.rev)
		}
		if err == nil {
			cancel()
			cl.kvRec[id] = kvStation{m, rev}
			return nil
		}
		// Written meanwhile by another node: read it, merge, try again.
		e, gerr := cl.b.Stations.Get(wctx, stationKeyPrefix+id)
		cancel()
		switch {
		case gerr == nil:
			s.mergeEntry(cl, e)
		case errors.Is(gerr, jetstream.ErrKeyNotFound):
			delete(cl.kvRec, id)
		default:
			return err
		}
	}
	return errors.New("the record kept changing under this node's writes")
}

// publishStation shares station id's record now (an enrolment: the station
// may dial another node at once), waiting at most a few seconds; the loop
// tries again later if this fails.
func (s *Server) publishStation(ctx context.Context, id string) {
	cl := s.cluster()
	if cl == nil || !cl.isReady() {
		return
	}
	cl.pokeNow()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	s.mu.Lock()
	st := s.state.Stations[id]
	var b []byte
	if st != nil {
		b, _ = json.Marshal(mergeStation(st, nil))
	}
	s.mu.Unlock()
	if b == nil {
		return
	}
	// A new station's key is new: Create cannot meet another's record.
	// The loop's next pass sees it in the watch and agrees.
	if _, err := cl.b.Stations.Create(ctx, stationKeyPrefix+id, b); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		s.log.Warn("cluster: a new station's record is not shared yet", "station", id, "err", err)
	}
}

// Codes: `adhoc-hub enrol` writes a code's file at one node; the node
// publishes it ("code.HASH": expiry and team) so any node can redeem it,
// and a redemption anywhere is a Create of "used.HASH": only one succeeds.

type codeRecord struct {
	Expires time.Time `json:"expires"`
	Team    string    `json:"team,omitempty"`
}

func readCodeFile(path string) (codeRecord, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return codeRecord{}, err
	}
	first, teamID, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	exp, err := time.Parse(time.RFC3339, strings.TrimSpace(first))
	return codeRecord{Expires: exp, Team: strings.TrimSpace(teamID)}, err
}

// publishCodes shares the code files of this node not yet shared, and
// removes those redeemed (at any node).
func (s *Server) publishCodes(ctx context.Context, cl *cluster) {
	cl.codesMu.Lock()
	defer cl.codesMu.Unlock()
	dir := filepath.Join(s.dir, "codes")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range ents {
		h := de.Name()
		if len(h) != 64 {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if _, err := cl.b.Codes.Get(wctx, "used."+h); err == nil {
			os.Remove(filepath.Join(dir, h)) // redeemed at some node
			delete(cl.codes, h)
			cancel()
			continue
		}
		if !cl.codes[h] {
			if rec, err := readCodeFile(filepath.Join(dir, h)); err == nil {
				b, _ := json.Marshal(rec)
				_, err := cl.b.Codes.Create(wctx, "code."+h, b)
				if err == nil || errors.Is(err, jetstream.ErrKeyExists) {
					cl.codes[h] = true
				}
			}
		}
		cancel()
	}
}

// PublishCodes shares the codes printed at this node now and returns once
// they are shared (the admin socket's "codes": adhoc-hub enrol asks a
// running hub for it, so the code works at every node when it prints).
// Before the node shares its state, RunCluster does it when it can.
func (s *Server) PublishCodes(ctx context.Context) {
	if cl := s.cluster(); cl != nil && cl.isReady() {
		s.publishCodes(ctx, cl)
	}
}

var (
	errBadCode = errors.New("bad code")
	// errCodeStore: the nodes' shared store did not answer; the code is
	// not burnt.
	errCodeStore = errors.New("the hub's shared store did not answer")
)

// redeem burns an enrolment code and returns its team. Alone, the code's
// file is removed (redeemCode); in a cluster the code may have been
// printed at any node, and the node whose Create of "used.HASH" succeeds
// owns it.
func (s *Server) redeem(ctx context.Context, code string) (string, error) {
	cl := s.cluster()
	if cl == nil {
		teamID, ok := redeemCode(s.dir, code, s.now())
		if !ok {
			return "", errBadCode
		}
		return teamID, nil
	}
	if code == "" || len(code) > 64 {
		return "", errBadCode
	}
	if !cl.isReady() {
		// Just started: the buckets come within moments when the
		// store answers.
		t := time.NewTimer(10 * time.Second)
		defer t.Stop()
		select {
		case <-cl.ready:
		case <-t.C:
			return "", errCodeStore
		case <-ctx.Done():
			return "", errCodeStore
		}
	}
	h := hashHex(strings.ToLower(strings.TrimSpace(code)))
	path := filepath.Join(s.dir, "codes", h)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rec, err := readCodeFile(path)
	if err != nil {
		e, gerr := cl.b.Codes.Get(ctx, "code."+h)
		switch {
		case errors.Is(gerr, jetstream.ErrKeyNotFound):
			return "", errBadCode
		case gerr != nil:
			return "", errCodeStore
		}
		if json.Unmarshal(e.Value(), &rec) != nil {
			return "", errBadCode
		}
	}
	if !s.now().Before(rec.Expires) {
		return "", errBadCode
	}
	if _, err := cl.b.Codes.Create(ctx, "used."+h, []byte(cl.ts.NodeName())); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return "", errBadCode
		}
		return "", errCodeStore
	}
	os.Remove(path)
	return rec.Team, nil
}

// Leases: which node holds each station's control connection.

// syncLeases writes this node's word for the stations whose control
// connection came here (the newest connection wins, as on one node),
// withdraws it for those gone, and renews the rest when renew is set. A
// lease another node took since means the station's connection here is
// stale (the station dialled anew elsewhere): it is closed.
func (s *Server) syncLeases(ctx context.Context, cl *cluster, renew bool) bool {
	if cl.cfg.NodeURL == "" {
		return true
	}
	s.mu.Lock()
	online := make(map[string]*control, len(s.online))
	for id, c := range s.online {
		online[id] = c
	}
	s.mu.Unlock()
	ok := true
	val := []byte(cl.cfg.NodeURL)
	if renew || !cl.registered {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := cl.b.Where.Put(wctx, nodeKeyPrefix+cl.ts.NodeName(), val)
		cancel()
		cl.registered = err == nil
		ok = err == nil
	}
	for id, c := range online {
		if !ok {
			// The store does not answer: the next pass (250 ms) tries
			// again, rather than each station's write waiting its turn.
			break
		}
		l, had := cl.leases[id]
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		switch {
		case !had || l.c != c:
			rev, err := cl.b.Where.Put(wctx, id, val)
			if err != nil {
				ok = false
				break
			}
			cl.leases[id] = lease{rev, c}
		case renew:
			rev, err := cl.b.Where.Update(wctx, id, val, l.rev)
			if err == nil {
				cl.leases[id] = lease{rev, c}
				break
			}
			e, gerr := cl.b.Where.Get(wctx, id)
			switch {
			case gerr == nil && string(e.Value()) != cl.cfg.NodeURL:
				delete(cl.leases, id)
				s.mu.Lock()
				stale := s.online[id] == c
				if stale {
					delete(s.online, id)
				}
				s.mu.Unlock()
				if stale {
					c.ws.Close(websocket.StatusPolicyViolation, "replaced by a newer connection at another hub node")
					s.log.Info("station reconnected at another node: its connection here is closed", "station", id, "node", string(e.Value()))
				}
			case errors.Is(gerr, jetstream.ErrKeyNotFound) || gerr == nil:
				// Run out (or ours at another revision): say it again.
				rev, err := cl.b.Where.Put(wctx, id, val)
				if err != nil {
					ok = false
					break
				}
				cl.leases[id] = lease{rev, c}
			default:
				ok = false
			}
		}
		cancel()
	}
	for id, l := range cl.leases {
		if online[id] == l.c || !ok {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		// Only if still ours: the station may hold a newer lease elsewhere.
		err := cl.b.Where.Delete(wctx, id, jetstream.LastRevision(l.rev))
		cancel()
		if err != nil && !isWrongLastSeq(err) {
			ok = false
			continue
		}
		delete(cl.leases, id)
	}
	if n := int64(len(cl.leases)); cl.held.Swap(n) != n {
		cl.notify()
	}
	return ok
}

// isWrongLastSeq: written meanwhile (a replicated stream says so with
// another code than a single one; the library maps both).
func isWrongLastSeq(err error) bool { return errors.Is(err, jetstream.ErrKeyRevisionMismatch) }

// dropLeases withdraws this node's leases as it stops, so the other nodes
// stop forwarding here before the leases run out.
func (s *Server) dropLeases(cl *cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for id, l := range cl.leases {
		cl.b.Where.Delete(ctx, id, jetstream.LastRevision(l.rev))
	}
	if cl.registered {
		cl.b.Where.Delete(ctx, nodeKeyPrefix+cl.ts.NodeName())
	}
}

func (cl *cluster) seeWhere(e jetstream.KeyValueEntry) {
	cl.mu.Lock()
	m := cl.where
	if strings.HasPrefix(e.Key(), nodeKeyPrefix) {
		m = cl.peers
	}
	if e.Operation() == jetstream.KeyValuePut {
		m[e.Key()] = whereEntry{url: string(e.Value()), at: e.Created()}
	} else {
		delete(m, e.Key())
	}
	cl.mu.Unlock()
	cl.notify()
}

// nodeKeyPrefix + node name, in WhereBucket: each node's URL, renewed with
// its leases, so that a node whose view of a station lags (its holder just
// died, the new holder's lease not yet written while the bucket elects a
// leader) can try the other nodes.
const nodeKeyPrefix = "node."

// otherNodes are the URLs of the other nodes believed alive, except skip.
func (cl *cluster) otherNodes(skip string) []string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	var out []string
	for _, e := range cl.peers {
		if e.url == cl.cfg.NodeURL || e.url == skip || time.Since(e.at) > cl.cfg.LeaseTTL || slices.Contains(out, e.url) {
			continue
		}
		if t, ok := cl.down[e.url]; ok && time.Since(t) < cl.cfg.LeaseTTL/3 {
			continue
		}
		out = append(out, e.url)
	}
	slices.Sort(out)
	return out
}

func (cl *cluster) notify() {
	cl.mu.Lock()
	close(cl.changed)
	cl.changed = make(chan struct{})
	cl.mu.Unlock()
}

// holder is the URL of the node holding station id's control connection
// when that is another node believed alive, else "".
func (cl *cluster) holder(id string) string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	e, ok := cl.where[id]
	if !ok || e.url == cl.cfg.NodeURL || time.Since(e.at) > cl.cfg.LeaseTTL {
		return ""
	}
	if t, ok := cl.down[e.url]; ok && time.Since(t) < cl.cfg.LeaseTTL/3 {
		return "" // it did not answer a moment ago: its stations are moving
	}
	return e.url
}

// moving reports whether station id's lease names a node that did not
// answer a moment ago (or ran out): the station is likely moving to
// another node, whose lease may not be written or seen yet.
func (cl *cluster) moving(id string) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	e, ok := cl.where[id]
	if !ok || e.url == cl.cfg.NodeURL {
		return false
	}
	t, down := cl.down[e.url]
	return (down && time.Since(t) < cl.cfg.LeaseTTL/3) || time.Since(e.at) > cl.cfg.LeaseTTL
}

func (cl *cluster) markDown(url string, down bool) {
	cl.mu.Lock()
	if down {
		cl.down[url] = time.Now()
	} else {
		delete(cl.down, url)
	}
	cl.mu.Unlock()
	if down {
		cl.rewatchNow()
	}
}

func (cl *cluster) rewatchNow() {
	select {
	case cl.rewatch <- struct{}{}:
	default:
	}
}

// resolve is holder, asking the bucket itself when the watch names a node
// that did not answer (the watch may lag: its consumer may have been on
// that node).
func (cl *cluster) resolve(ctx context.Context, id string) string {
	if url := cl.holder(id); url != "" {
		return url
	}
	cl.mu.Lock()
	stale := cl.where[id].url != "" && cl.where[id].url != cl.cfg.NodeURL
	b := cl.b
	cl.mu.Unlock()
	if !stale || b == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	e, err := b.Where.Get(ctx, id)
	if err != nil {
		return ""
	}
	cl.seeWhere(e)
	return cl.holder(id)
}

// Forwarding.

func (cl *cluster) mac(kind, path, addr string) string {
	return hex.EncodeToString(cl.ts.NodeMAC(kind + " " + path + " " + addr))
}

// fromNode returns the PC's address a node passed with r, and whether r
// came from a node at all (its MAC checks).
func (cl *cluster) fromNode(r *http.Request, kind string) (addr string, ok bool) {
	v := r.Header.Get(nodeHeader)
	if v == "" {
		return "", false
	}
	addr, mac, _ := strings.Cut(v, " ")
	want := cl.mac(kind, r.URL.Path, addr)
	return addr, hmac.Equal([]byte(mac), []byte(want))
}

// clusterRelay is the relay handler's hook, after the token was checked
// and its station to (the token's, or the one that took its session over)
// chosen: it returns r to serve here (with the PC's address when another
// node forwarded it), or nil when it forwarded the relay to the node
// holding station to and answered the PC itself.
func (s *Server) clusterRelay(w http.ResponseWriter, r *http.Request, tok *hublink.Token, to string) *http.Request {
	cl := s.cluster()
	if cl == nil {
		return r
	}
	if addr, ok := cl.fromNode(r, "relay"); ok {
		r = r.Clone(r.Context())
		r.RemoteAddr = addr
		return r
	}
	if s.Online(to) {
		return r
	}
	// The node the lease names; if it does not answer (dead: the station
	// is moving), the node the bucket names now, then every other node —
	// one not holding the station answers "offline" at once.
	var others []string
	url := cl.resolve(r.Context(), to)
	if url == "" {
		if !cl.moving(to) {
			return r // streamEnd says the station is offline
		}
		if others = cl.otherNodes(""); len(others) == 0 {
			return r
		}
		url, others = others[0], others[1:]
	}
	release, ok := s.takeStream()
	if !ok {
		refuse(w, errHubFull.status, errHubFull.code, errHubFull.relayMsg)
		return nil
	}
	h := http.Header{nodeHeader: {r.RemoteAddr + " " + cl.mac("relay", r.URL.Path, r.RemoteAddr)}}
	var nws *websocket.Conn
	tried := map[string]bool{}
	for {
		tried[url] = true
		ctx, cancel := context.WithTimeout(r.Context(), s.AcceptTimeout+5*time.Second)
		var resp *http.Response
		var err error
		nws, resp, err = websocket.Dial(ctx, wsURL(url+r.URL.Path), &websocket.DialOptions{HTTPClient: cl.cfg.NodeClient, HTTPHeader: h})
		cancel()
		if err == nil {
			cl.markDown(url, false)
			break
		}
		switch {
		case resp != nil && resp.StatusCode == http.StatusServiceUnavailable && others != nil:
			// A node tried in turn: not there.
		case resp != nil && resp.StatusCode >= 400:
			release()
			cl.markDown(url, false)
			passRefusal(w, resp)
			return nil
		default:
			cl.markDown(url, true)
			s.log.Warn("cluster: the node holding the station did not answer", "station", to, "node", url, "err", err)
			if u := cl.resolve(r.Context(), to); others == nil && u != "" && !tried[u] {
				url = u
				continue
			}
		}
		if others == nil {
			others = []string{}
			for _, u := range cl.otherNodes("") {
				if !tried[u] {
					others = append(others, u)
				}
			}
		}
		if len(others) == 0 || r.Context().Err() != nil {
			release()
			refuse(w, errOffline.status, errOffline.code, errOffline.relayMsg)
			return nil
		}
		url, others = others[0], others[1:]
	}
	aws, err := websocket.Accept(w, r, nil)
	if err != nil {
		nws.CloseNow()
		release()
		return nil
	}
	cl.forwarded.Add(1)
	// As a relay served here: ends at the session's end or the hub's.
	sctx, scancel := context.WithTimeout(serveCtx(r), time.Unix(tok.Exp, 0).Sub(s.now()))
	raw := rawConn(r)
	go func() {
		defer release()
		defer scancel()
		var moved atomic.Uint64
		splice(sctx, aws, raw, nws, nil, &moved)
	}()
	return nil
}

// clusterAccept is the accept handler's hook for a station's data
// connection that names no relay waiting here: with a DNS name of several
// addresses, the station's dial may land on another node than its control
// connection. It forwards the connection to the node holding that control
// connection and reports whether it did.
func (s *Server) clusterAccept(w http.ResponseWriter, r *http.Request, id string) bool {
	cl := s.cluster()
	if cl == nil {
		return false
	}
	if _, ok := cl.fromNode(r, "accept"); ok || s.Online(id) {
		return false
	}
	release, ok := s.takeStream()
	if !ok {
		refuse(w, errHubFull.status, errHubFull.code, errHubFull.relayMsg)
		return true
	}
	h := http.Header{
		"Authorization": r.Header.Values("Authorization"),
		nodeHeader:      {"- " + cl.mac("accept", r.URL.Path, "-")},
	}
	// The station answers a node that asked it, so some node holds it; this
	// node's view may lag just after the station moved (its new node's
	// lease on its way, or the old node dead): wait for it a while, well
	// within the app's wait for the station (AcceptTimeout).
	deadline := time.Now().Add(s.AcceptTimeout / 2)
	var nws *websocket.Conn
	dial := func(url string) (stop bool) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		var resp *http.Response
		var err error
		nws, resp, err = websocket.Dial(ctx, wsURL(url+r.URL.Path), &websocket.DialOptions{HTTPClient: cl.cfg.NodeClient, HTTPHeader: h})
		switch {
		case err == nil:
			return true
		case resp != nil && resp.StatusCode == http.StatusNotFound:
			return false // not waiting there
		case resp != nil && resp.StatusCode >= 400:
			passRefusal(w, resp)
			return true
		default:
			cl.markDown(url, true)
			return false
		}
	}
	for {
		changed := cl.changedCh()
		// The node the lease names, else each other node: only the one
		// that asked for this connection has it waiting (the others
		// answer 404 at once).
		url := cl.resolve(r.Context(), id)
		found := url != "" && dial(url)
		for _, u := range cl.otherNodes(url) {
			if found {
				break
			}
			found = dial(u)
		}
		if found {
			if nws == nil { // a refusal, passed on
				release()
				return true
			}
			break
		}
		if time.Now().After(deadline) || r.Context().Err() != nil {
			release()
			return false
		}
		t := time.NewTimer(250 * time.Millisecond)
		select {
		case <-changed:
		case <-t.C:
		case <-r.Context().Done():
		}
		t.Stop()
	}
	sws, err := websocket.Accept(w, r, nil)
	if err != nil {
		nws.CloseNow()
		release()
		return true
	}
	cl.forwarded.Add(1)
	raw := rawConn(r)
	sctx := serveCtx(r)
	go func() {
		defer release()
		var moved atomic.Uint64
		splice(sctx, sws, raw, nws, nil, &moved)
	}()
	return true
}

func (cl *cluster) changedCh() <-chan struct{} {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.changed
}

// passRefusal answers with the refusal another node gave.
func passRefusal(w http.ResponseWriter, resp *http.Response) {
	var e hublink.ErrorResponse
	if resp.Body != nil {
		dec := json.NewDecoder(io.LimitReader(resp.Body, 16<<10))
		if dec.Decode(&e) != nil || e.Message == "" {
			e = hublink.ErrorResponse{Code: errOffline.code, Message: errOffline.relayMsg}
		}
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	refuse(w, resp.StatusCode, e.Code, e.Message)
}

func wsURL(u string) string {
	if rest, ok := strings.CutPrefix(u, "https://"); ok {
		return "wss://" + rest
	}
	return u
}

// AdminPublishCodes asks the hub running on state folder dir to share the
// codes printed there with its cluster now (adhoc-hub enrol; without it
// the hub finds them within 2 s). A hub that is not running is no error:
// it shares them when it starts.
func AdminPublishCodes(dir string) {
	c, err := net.DialTimeout("unix", AdminSocket(dir), time.Second)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	b, _ := json.Marshal(adminRequest{Op: "codes"})
	if _, err := c.Write(append(b, '\n')); err == nil {
		io.Copy(io.Discard, io.LimitReader(c, 4096))
	}
}

// pathNodeWeb + station id: a node asks the node holding the station for a
// stream to it for a browser's request (kind "http"), as a WebSocket. Only
// nodes may (nodeHeader's MAC).
const pathNodeWeb = "/hub/v1/node/web/"

// clusterHolder is the node holding station id's control connection when
// it is another node ("" : this node, or none).
func (s *Server) clusterHolder(ctx context.Context, id string) string {
	cl := s.cluster()
	if cl == nil {
		return ""
	}
	return cl.resolve(ctx, id)
}

// clusterDialWeb opens a stream for a browser's request to station id
// through the node holding it, when that is another node (ok set).
func (s *Server) clusterDialWeb(ctx context.Context, id, client string) (c net.Conn, ok bool, err error) {
	cl := s.cluster()
	if cl == nil || s.Online(id) {
		return nil, false, nil
	}
	url := cl.resolve(ctx, id)
	if url == "" {
		return nil, false, nil
	}
	path := pathNodeWeb + id
	h := http.Header{nodeHeader: {client + " " + cl.mac("web", path, client)}}
	nws, resp, err := websocket.Dial(ctx, wsURL(url+path), &websocket.DialOptions{HTTPClient: cl.cfg.NodeClient, HTTPHeader: h})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusServiceUnavailable {
			return nil, true, errOffline
		}
		if resp == nil {
			cl.markDown(url, true)
			return nil, true, errOffline
		}
		return nil, true, errNoAnswer
	}
	cl.forwarded.Add(1)
	return hublink.WSConn(nws), true, nil
}

// nodeWeb serves another node's clusterDialWeb: a stream to a station held
// here, spliced to the asking node's WebSocket.
func (s *Server) nodeWeb(w http.ResponseWriter, r *http.Request) {
	cl := s.cluster()
	if cl == nil {
		http.NotFound(w, r)
		return
	}
	client, ok := cl.fromNode(r, "web")
	if !ok {
		http.NotFound(w, r)
		return
	}
	ws, release, err := s.stream(r.Context(), r.PathValue("id"), hublink.ControlMessage{Type: "http", Client: client})
	if err != nil {
		var re *refusalErr
		if errors.As(err, &re) {
			refuse(w, re.status, re.code, re.relayMsg)
		}
		return
	}
	nws, err := websocket.Accept(w, r, nil)
	if err != nil {
		ws.CloseNow()
		release()
		return
	}
	raw := rawConn(r)
	sctx := serveCtx(r)
	go func() {
		defer release()
		var moved atomic.Uint64
		splice(sctx, nws, raw, ws, nil, &moved)
	}()
}

// takeStream counts a forwarded stream in this node's streams in all
// (Status().Streams, bounded by SetLimits' relays, then hub_full): it holds
// two WebSockets here like a relay served here. release gives it back.
func (s *Server) takeStream() (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.relays >= s.maxRelays {
		return nil, false
	}
	s.relays++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.relays--
			s.mu.Unlock()
		})
	}, true
}
