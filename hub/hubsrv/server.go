// Package hubsrv is the relay hub (docs/HUB.md): stations enrol and keep a
// control WebSocket to it; an app dials /relay/TOKEN and the hub asks the
// token's station to open a data WebSocket back, then splices the two byte
// streams. The app's pinned TLS 1.3 runs inside, end to end with the
// station: the hub carries ciphertext only.
package hubsrv

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"adhocstation/core/hublink"
	"adhocstation/hub/team"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// Server is the hub. Make it with New.
type Server struct {
	dir string
	log *slog.Logger

	// AcceptTimeout bounds how long an app waits for its station to open
	// the data connection back.
	AcceptTimeout time.Duration
	// PingInterval is how often the hub checks each control connection.
	PingInterval time.Duration
	// WebTimeout bounds a browser's request forwarded to a station,
	// the answer (a download) included.
	WebTimeout time.Duration
	// RelayIdle closes a spliced relay that carried no byte either way for
	// this long (0: never). Set before Serve.
	RelayIdle time.Duration

	proxy http.Handler // forwards /st/{id}/… (web.go)
	team  *team.Server // SetTeam; nil: no team server
	cl    *cluster     // SetCluster; nil: one node (cluster.go)

	mu    sync.Mutex
	clock func() time.Time // token expiry and codes; SetClock moves it
	// Limits (SetLimits): apps waiting on one station's answer, and relays
	// open in all (waiting or spliced).
	maxWaiting, maxRelays int
	waiting               map[string]int // station id → apps waiting on it
	relays                int
	// Relays per station (waiting or spliced; web requests not counted),
	// bounded by maxPerStation (SetRelaysPerStation).
	maxPerStation int
	perStation    map[string]int
	live          map[*liveRelay]struct{} // spliced relays, for the idle sweep
	idleCut       uint64                  // relays closed for idleness since start
	plainOffer    bool                    // SetPlainDataLegs; New: true
	plainLegs     uint64                  // relays whose station end came plain, since start
	// Per-address limits (SetRateLimits).
	enrolLim, relayLim, webLim *addrLimiter
	opened                     uint64 // streams opened since start: tidy watches it
	state                      *stateFile
	online                     map[string]*control // station id → its control connection
	pending                    map[string]*pending // relay id → the app waiting for it
	tk                         takeovers           // takeover.go

	authLimits // wrong station credentials, TLS handshakes (authlimit.go)
}

type control struct {
	ws *websocket.Conn
}

// stationEnd is the station's data WebSocket and the connection it runs
// on (for hublink.WithCork; nil when unknown), or, for a plain data leg,
// only that connection (plain).
type stationEnd struct {
	ws    *websocket.Conn
	raw   net.Conn
	plain *plainEnd
}

// cut is what closes the station's end at once.
func (e stationEnd) cut() cutter {
	if e.plain != nil {
		return e.plain
	}
	return e.ws
}

// conn is the station's end as a byte stream.
func (e stationEnd) conn() net.Conn {
	if e.plain != nil {
		return e.plain.Conn
	}
	return hublink.WithCork(hublink.WSConn(e.ws), e.raw)
}

// cutter is a relay's end the hub can cut: a *websocket.Conn or a
// *plainEnd.
type cutter interface{ CloseNow() error }

// plainEnd is a station's plain data leg (hublink.ControlMessage.DataKey).
type plainEnd struct{ net.Conn }

func (p *plainEnd) CloseNow() error { return p.Close() }

type pending struct {
	station string
	dataKey string          // the plain data leg's key; "" when none was offered
	got     chan stationEnd // the station's data connection, handed over once
	done    chan struct{}   // closed when the stream is released
}

// Default limits: a station answers a relay in milliseconds, so 32 apps
// waiting on one means it is stuck or flooded; 20,000 relays is about
// 1.3 GB of relay buffers at worst (2 × 32 KiB each).
const (
	DefaultMaxWaiting = 32
	DefaultMaxRelays  = 20000
	// DefaultRelaysPerStation: a technician's station rarely has more than
	// a few dozen PCs in session at once; 256 leaves room while one
	// station's PCs (or a leaked invitation redialling) cannot take the
	// whole hub.
	DefaultRelaysPerStation = 256
	// DefaultRelayIdle: the app's live channel pings every 2 s
	// (core/pairing defaultChannelKeepAlive) and its heartbeat call runs
	// every 30 s, so a healthy relay is never silent for a minute; ten
	// leaves room for a PC that sleeps through a short network loss.
	DefaultRelayIdle = 10 * time.Minute
)

// SetRelaysPerStation replaces the limit on relays (waiting or spliced)
// to one station.
func (s *Server) SetRelaysPerStation(n int) {
	s.mu.Lock()
	s.maxPerStation = n
	s.mu.Unlock()
}

// SetRateLimits replaces the per-address limits (their counts start afresh).
func (s *Server) SetRateLimits(l RateLimits) {
	s.mu.Lock()
	s.enrolLim, s.relayLim, s.webLim = newAddrLimiter(l.Enrol, limiterSize), newAddrLimiter(l.RelayRefusals, limiterSize), newAddrLimiter(l.Web, limiterSize)
	s.authLim = newAuthLimiter(l.StationAuth)
	s.mu.Unlock()
}

// limiters returns the per-address limiters now in use.
func (s *Server) limiters() (enrol, relay, web *addrLimiter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enrolLim, s.relayLim, s.webLim
}

// SetLimits replaces the relay limits.
func (s *Server) SetLimits(waitingPerStation, relays int) {
	s.mu.Lock()
	s.maxWaiting, s.maxRelays = waitingPerStation, relays
	s.mu.Unlock()
}

// New opens (or creates, mode 0700) the hub's state folder.
func New(dir string, log *slog.Logger) (*Server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	st, err := loadState(dir)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		dir: dir, log: log, state: st,
		clock: time.Now, AcceptTimeout: 10 * time.Second, PingInterval: 30 * time.Second, WebTimeout: DefaultWebTimeout,
		online: map[string]*control{}, pending: map[string]*pending{},
		maxWaiting: DefaultMaxWaiting, maxRelays: DefaultMaxRelays, waiting: map[string]int{},
		maxPerStation: DefaultRelaysPerStation, perStation: map[string]int{}, live: map[*liveRelay]struct{}{},
		RelayIdle: DefaultRelayIdle, plainOffer: true,
	}
	s.SetRateLimits(DefaultRateLimits)
	s.proxy = s.webProxy()
	s.plain = s.plainLeg
	return s, nil
}

// Handler serves the hub's paths.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+hublink.PathEnrol, s.enrol)
	mux.HandleFunc("GET "+hublink.PathControl, s.control)
	mux.HandleFunc("GET "+hublink.PathAccept+"{id}", s.accept)
	mux.HandleFunc("GET "+hublink.PathRelay+"{token}", s.relay)
	mux.HandleFunc("POST "+hublink.PathTeam, s.teamCredential)
	mux.HandleFunc("POST "+hublink.PathTakeover, s.takeover)
	mux.HandleFunc("GET "+pathNodeWeb+"{id}", s.nodeWeb) // cluster.go
	mux.HandleFunc(hublink.PathStation+"{id}/{rest...}", s.web)
	mux.HandleFunc(hublink.PathStation+"{id}", func(w http.ResponseWriter, r *http.Request) {
		if !s.webAllowed(w, r) {
			return
		}
		http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
	})
	return mux
}

// TLSConfig is the hub's TLS with a given certificate: TLS 1.3, HTTP/1.1
// only (the WebSocket upgrade needs it).
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
}

// Serve runs the hub on ln with TLS until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener, cfg *tls.Config) error {
	hs := &http.Server{
		// Requests' contexts derive from ctx, so its end also closes the
		// hijacked WebSockets (control connections and relays), which
		// http.Server.Close leaves open.
		BaseContext:       func(net.Listener) context.Context { return context.WithValue(ctx, serveCtxKey{}, ctx) },
		ConnContext:       func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, rawConnKey{}, c) },
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		MaxHeaderBytes:    16 << 10,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	go s.tidy(ctx, 10*time.Second)
	if s.RelayIdle > 0 {
		go s.sweepIdle(ctx, min(s.RelayIdle/4, time.Minute))
	}
	// Corkable connections: a relay's WebSocket frame then leaves in one
	// system call, not in the 4 KiB buffer's pieces (docs/PERFORMANCE.md).
	// Handshakes are done by the listener, a bounded number per address
	// at once (authlimit.go).
	err := hs.Serve(s.handshakes(hublink.CorkListener(ln), cfg))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func refuse(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(hublink.ErrorResponse{Code: code, Message: msg})
}

func (s *Server) enrol(w http.ResponseWriter, r *http.Request) {
	lim, _, _ := s.limiters()
	if wait := lim.take(addrKey(r.RemoteAddr), s.now()); wait > 0 {
		retryAfter(w, wait)
		refuse(w, http.StatusTooManyRequests, "too_many_tries", tooManyTriesText)
		return
	}
	// The server has no ReadTimeout (relays live for hours): bound this body here.
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(15 * time.Second))
	var req hublink.EnrolRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil || len(req.PublicKey) != ed25519.PublicKeySize {
		refuse(w, http.StatusBadRequest, "bad_request", "The enrolment request could not be read.")
		return
	}
	teamID, err := s.redeem(r.Context(), req.Code)
	if errors.Is(err, errCodeStore) {
		refuse(w, http.StatusServiceUnavailable, "hub_busy", "The hub could not check this enrolment code just now (its nodes' shared store did not answer); the code is still good: try again in a minute.")
		return
	}
	if err != nil {
		refuse(w, http.StatusForbidden, "bad_code", "This enrolment code is unknown, used or expired: ask the hub's admin for a new one (adhoc-hub enrol).")
		return
	}
	id, secret := randomText(10), randomText(32)
	name := req.Name
	if len(name) > 100 {
		name = name[:100]
	}
	st := &station{Name: name, PublicKey: req.PublicKey, SecretHash: hashHex(secret), Enrolled: s.now().UTC(), Team: teamID}
	s.mu.Lock()
	s.state.Stations[id] = st
	err = s.state.save(s.dir)
	if err != nil {
		delete(s.state.Stations, id)
	}
	s.mu.Unlock()
	if err != nil {
		s.log.Error("enrol: saving the state", "err", err)
		refuse(w, http.StatusInternalServerError, "internal", "The hub could not save the enrolment; its admin should check its log.")
		return
	}
	s.publishStation(r.Context(), id) // so the station may dial any node at once
	s.log.Info("station enrolled", "station", id, "name", name, "team", teamID)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(hublink.EnrolResponse{StationID: id, Credential: id + "." + secret})
}

// station authenticates a station's request by its credential. A revoked
// station's credential is refused with errRevoked, which says so.
func (s *Server) station(r *http.Request) (id, teamID string, err error) {
	if err := s.authAllowed(r); err != nil {
		return "", "", err
	}
	defer func() {
		if errors.Is(err, errBadCredential) {
			s.authFailed(r)
		}
	}()
	cred, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", "", errBadCredential
	}
	id, secret, ok := strings.Cut(cred, ".")
	if !ok {
		return "", "", errBadCredential
	}
	s.mu.Lock()
	st := s.state.Stations[id]
	var revoked bool
	if st != nil {
		teamID, revoked = st.Team, !st.Revoked.IsZero()
	}
	s.mu.Unlock()
	if st == nil || subtle.ConstantTimeCompare([]byte(hashHex(secret)), []byte(st.SecretHash)) != 1 {
		return "", "", errBadCredential
	}
	if revoked {
		return "", "", errRevoked
	}
	return id, teamID, nil
}

// refuseStation answers a station's request its credential did not pass.
func refuseStation(w http.ResponseWriter, err error) {
	if refuseAuthWait(w, err) {
		return
	}
	if errors.Is(err, errRevoked) {
		refuse(w, http.StatusForbidden, "station_revoked", revokedText)
		return
	}
	refuse(w, http.StatusUnauthorized, "bad_credential", "The hub does not know this station's credential: enrol the station again.")
}

var (
	errBadCredential = errors.New("unknown station credential")
	errRevoked       = errors.New("station revoked")
)

// revokedText is what a revoked station is told, at every path it tries.
const revokedText = "The hub's admin revoked this station: PCs can no longer reach it through this hub and it no longer shares its team's seats. Ask the admin for a new code (adhoc-hub enrol) and join the hub again."

func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	id, _, err := s.station(r)
	if err != nil {
		refuseStation(w, err)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	c := &control{ws: ws}
	s.mu.Lock()
	if st := s.state.Stations[id]; st == nil || !st.Revoked.IsZero() { // revoked since the check
		s.mu.Unlock()
		ws.Close(4003, "station revoked")
		return
	}
	old := s.online[id]
	s.online[id] = c
	s.mu.Unlock()
	s.clusterPoke()
	if old != nil { // one control connection per station: the newest wins
		old.ws.Close(websocket.StatusPolicyViolation, "replaced by a newer connection")
	}
	s.log.Info("station online", "station", id)
	// hello tells the station it is registered: only then is it "connected".
	hctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	err = wsjson.Write(hctx, ws, hublink.ControlMessage{Type: "hello"})
	cancel()
	defer func() {
		s.mu.Lock()
		if s.online[id] == c {
			delete(s.online, id)
		}
		s.mu.Unlock()
		s.takerGone(id)
		s.clusterPoke()
		ws.CloseNow()
		s.log.Info("station offline", "station", id)
	}()
	if err != nil {
		return
	}
	ctx := ws.CloseRead(r.Context()) // the station sends nothing; this answers pings and sees the close
	t := time.NewTicker(s.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := ws.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
		}
	}
}

func (s *Server) relay(w http.ResponseWriter, r *http.Request) {
	// Only refusals count, so an address is throttled by its bad or
	// expired tokens, never by a PC redialling with a good one; once over,
	// it is refused before its token costs a signature check.
	_, lim, _ := s.limiters()
	addr, now := addrKey(r.RemoteAddr), s.now()
	if wait := lim.wait(addr, now); wait > 0 {
		retryAfter(w, wait)
		refuse(w, http.StatusTooManyRequests, "too_many_tries", "Too many invalid or ended support links came from this network in the last minute: the app tries again by itself; if it keeps happening, ask the technician for a new invitation.")
		return
	}
	tok, err := hublink.ReadToken(r.PathValue("token"))
	if err != nil {
		lim.add(addr, now)
		refuse(w, http.StatusForbidden, "bad_token", "This support link is not valid: ask the technician for a new one.")
		return
	}
	s.mu.Lock()
	st := s.state.Stations[tok.Station]
	s.mu.Unlock()
	if st == nil || !st.Revoked.IsZero() || !tok.Verify(st.PublicKey) {
		lim.add(addr, now)
		refuse(w, http.StatusForbidden, "bad_token", "This support link is not valid: ask the technician for a new one.")
		return
	}
	if tok.Expired(now) {
		lim.add(addr, now)
		refuse(w, http.StatusGone, "session_ended", "This support session has ended: ask the technician for a new invitation.")
		return
	}
	// A session another station of the team took over goes to that
	// station (takeover.go); its relays count against it.
	to, m := s.routeRelay(tok, r.RemoteAddr)
	if r = s.clusterRelay(w, r, tok, to); r == nil {
		return // forwarded to the node holding that station (cluster.go)
	}
	m.Client = r.RemoteAddr // the PC's, when another node forwarded it
	if here := s.clusterServeHere(tok, to); here != to {
		to, m.Owner = here, ""
		if to != tok.Station {
			m.Owner = tok.Station
		}
	}
	se, release, err := s.streamEnd(r.Context(), to, m)
	if err != nil {
		var re *refusalErr
		if errors.As(err, &re) {
			refuse(w, re.status, re.code, re.relayMsg)
		}
		return
	}
	release = s.trackRelay(tok.Station, tok.Session, to, se.cut(), release)
	aws, err := websocket.Accept(w, r, nil)
	if err != nil {
		se.cut().CloseNow()
		release()
		return
	}
	// The relay ends at the session's end too, not only new ones refused:
	// access stops then even if the station is down or does not end it.
	// Its life is the hub's (serveCtx), not this request's: the handler
	// returns now and the splice runs in two fresh goroutines, whose
	// stacks stay small, where the request's goroutine has grown its
	// stack through a TLS handshake (16 KiB kept per goroutine: 1,000
	// idle PCs, docs/PERFORMANCE.md).
	ctx, cancel := context.WithTimeout(serveCtx(r), time.Unix(tok.Exp, 0).Sub(s.now()))
	lr := &liveRelay{cut: cancel}
	s.mu.Lock()
	lr.since = s.clock()
	s.live[lr] = struct{}{}
	s.mu.Unlock()
	go func() {
		defer release()
		defer cancel()
		defer func() {
			s.mu.Lock()
			delete(s.live, lr)
			s.mu.Unlock()
		}()
		spliceConns(ctx, hublink.WithCork(hublink.WSConn(aws), rawConn(r)), se.conn(), func() {
			aws.CloseNow()
			se.cut().CloseNow()
		}, &lr.moved)
	}()
}

type serveCtxKey struct{}

type rawConnKey struct{}

// rawConn is the connection r came on (the hub's *tls.Conn), nil if not
// known.
func rawConn(r *http.Request) net.Conn {
	c, _ := r.Context().Value(rawConnKey{}).(net.Conn)
	return c
}

// serveCtx is the context of the Serve that got r: it ends when the hub
// stops, unlike r's, which ends when its handler returns.
func serveCtx(r *http.Request) context.Context {
	if ctx, ok := r.Context().Value(serveCtxKey{}).(context.Context); ok {
		return ctx
	}
	return context.Background()
}

// refusalErr is why the hub could not open a stream to a station, with
// the words for an app (JSON) and for a browser (the web page).
type refusalErr struct {
	status   int
	code     string
	relayMsg string // for the app, which retries by itself
	webMsg   string // for a person in a browser
}

func (e *refusalErr) Error() string { return e.relayMsg }

var (
	errOffline = &refusalErr{http.StatusServiceUnavailable, "station_offline",
		"The technician's station is offline: the app keeps trying; ask the technician to start the station.",
		offlineText}
	errPerStation = &refusalErr{http.StatusTooManyRequests, "too_many_relays",
		"The technician's station has as many connections through this hub as it may: try again in a moment, or ask the technician to end sessions no longer needed.",
		"The technician's station has as many connections as it may right now. Wait a moment, then reload this page."}
	errTooMany = &refusalErr{http.StatusTooManyRequests, "too_many_relays",
		"Too many connections are waiting for the technician's station: try again in a moment.",
		"Too many people are waiting for the technician's station right now. Wait a moment, then reload this page."}
	errHubFull = &refusalErr{http.StatusServiceUnavailable, "hub_full",
		"The hub is carrying as many connections as it can: try again in a moment.",
		"The relay is carrying as many connections as it can. Wait a moment, then reload this page."}
	errNoAnswer = &refusalErr{http.StatusGatewayTimeout, "station_no_answer",
		"The technician's station did not answer in time: try again in a moment.",
		"The technician's station did not answer in time. Wait a moment, then reload this page; if it keeps happening, tell your technician."}
)

// offlineText is what a person opening a join link sees while the station
// holds no control connection.
const offlineText = "The technician's station is offline — ask your technician to open Ad Hoc Support Station, then reload this page."

// stream asks station id, over its control connection, to open a data
// WebSocket back (m says why: "accept" for a relay, "http" for a
// forwarded web request) and waits for it. The stream counts toward the
// hub's limits until release is called, which the caller must do once.
func (s *Server) stream(ctx context.Context, id string, m hublink.ControlMessage) (ws *websocket.Conn, release func(), err error) {
	st, release, err := s.streamEnd(ctx, id, m)
	return st.ws, release, err
}

// streamEnd is stream with the connection the WebSocket runs on.
func (s *Server) streamEnd(ctx context.Context, id string, m hublink.ControlMessage) (st stationEnd, release func(), err error) {
	s.mu.Lock()
	c := s.online[id]
	p := &pending{station: id, got: make(chan stationEnd), done: make(chan struct{})}
	rid := randomText(16)
	isRelay := m.Type == "accept"
	if isRelay && s.plainOffer && s.cl == nil {
		// Not in a cluster: the station's plain leg may reach another
		// node, which could not forward it (it would fall back to the
		// data WebSocket each time).
		p.dataKey = randomText(16)
		m.DataKey = p.dataKey
	}
	switch {
	case c == nil:
		err = errOffline
	case s.waiting[id] >= s.maxWaiting:
		err = errTooMany
	case isRelay && s.perStation[id] >= s.maxPerStation:
		err = errPerStation
	case s.relays >= s.maxRelays:
		err = errHubFull
	default:
		s.pending[rid] = p
		s.waiting[id]++
		s.relays++
		s.opened++
		if isRelay {
			s.perStation[id]++
		}
	}
	s.mu.Unlock()
	if err != nil {
		return stationEnd{}, nil, err
	}
	waited := false // the station answered (or the wait ended): no longer counted as waiting
	endWait := func() {
		s.mu.Lock()
		if !waited {
			waited = true
			delete(s.pending, rid)
			if s.waiting[id]--; s.waiting[id] <= 0 {
				delete(s.waiting, id)
			}
		}
		s.mu.Unlock()
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			endWait()
			close(p.done) // a station's data connection arriving late is closed
			s.mu.Lock()
			s.relays--
			if isRelay {
				if s.perStation[id]--; s.perStation[id] <= 0 {
					delete(s.perStation, id)
				}
			}
			s.mu.Unlock()
		})
	}
	m.RelayID = rid
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err = wsjson.Write(wctx, c.ws, m)
	cancel()
	if err != nil {
		release()
		return stationEnd{}, nil, errOffline
	}
	timer := time.NewTimer(s.AcceptTimeout)
	defer timer.Stop()
	select {
	case st = <-p.got:
		endWait()
		return st, release, nil
	case <-timer.C:
		release()
		return stationEnd{}, nil, errNoAnswer
	case <-ctx.Done():
		release()
		return stationEnd{}, nil, ctx.Err()
	}
}

func (s *Server) accept(w http.ResponseWriter, r *http.Request) {
	id, _, err := s.station(r)
	if err != nil {
		refuseStation(w, err)
		return
	}
	s.mu.Lock()
	p := s.pending[r.PathValue("id")]
	if p != nil && p.station == id {
		delete(s.pending, r.PathValue("id")) // one station connection per relay
	} else {
		p = nil
	}
	s.mu.Unlock()
	if p == nil {
		if s.clusterAccept(w, r, id) {
			return // forwarded to the node holding the station (cluster.go)
		}
		refuse(w, http.StatusNotFound, "no_relay", "No app is waiting on this relay any more.")
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	// Hand ws over and return: whoever took it closes it, and this
	// goroutine's grown stack is freed.
	select {
	case p.got <- stationEnd{ws: ws, raw: rawConn(r)}:
	case <-p.done: // the app's wait ended just as this arrived
		ws.CloseNow()
	}
}

// relayBuffer bounds what the hub holds per direction of a busy relay;
// idleBuffer is what it holds while a relay only trickles or idles, so
// 1,000 idle PCs cost 2 KiB of buffers each, not 64 (docs/PERFORMANCE.md).
const (
	relayBuffer = 32 << 10
	idleBuffer  = 1 << 10
)

var relayBuffers = sync.Pool{New: func() any { b := make([]byte, relayBuffer); return &b }}

// pump copies src to dst until either fails. It reads into a small buffer
// and takes a large pooled one only while reads fill what it has: a
// relay blocked in Read waiting for the next byte holds 1 KiB.
// Every read that brought bytes adds one to moved (the idle sweep's sign
// of life: an atomic add, no clock read per read).
func pump(dst io.Writer, src io.Reader, moved *atomic.Uint64) {
	small := make([]byte, idleBuffer)
	var big *[]byte
	defer func() {
		if big != nil {
			relayBuffers.Put(big)
		}
	}()
	for {
		buf := small
		if big != nil {
			buf = *big
		}
		n, err := src.Read(buf)
		if n > 0 {
			moved.Add(1)
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
		switch {
		case big == nil && n == len(small): // a stream, not a trickle
			big = relayBuffers.Get().(*[]byte)
		case big != nil && n < relayBuffer/8: // back to a trickle: give it back
			relayBuffers.Put(big)
			big = nil
		}
	}
}

// splice copies bytes both ways until either side closes, then closes
// both. One direction runs in the caller's goroutine.
// araw and braw are the connections they run on (nil: unknown).
func splice(ctx context.Context, a *websocket.Conn, araw net.Conn, b *websocket.Conn, braw net.Conn, moved *atomic.Uint64) {
	spliceConns(ctx, hublink.WithCork(hublink.WSConn(a), araw), hublink.WithCork(hublink.WSConn(b), braw), func() {
		a.CloseNow()
		b.CloseNow()
	}, moved)
}

// spliceConns is splice for any two streams; cut closes both at once.
func spliceConns(ctx context.Context, ac, bc net.Conn, cut func(), moved *atomic.Uint64) {
	// ctx's end (the session's, or the hub's) cuts the relay; WSConn
	// itself arms no timer per read or write.
	stop := context.AfterFunc(ctx, cut)
	defer stop()
	done := make(chan struct{})
	go func() {
		pump(ac, bc, moved)
		ac.Close()
		bc.Close()
		close(done)
	}()
	pump(bc, ac, moved)
	ac.Close()
	bc.Close()
	<-done
}

// SetClock replaces the clock the hub judges expiry by (tests).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.clock = now
	s.mu.Unlock()
}

func (s *Server) now() time.Time {
	s.mu.Lock()
	now := s.clock
	s.mu.Unlock()
	return now()
}

// Online reports whether station id holds a control connection.
func (s *Server) Online(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.online[id] != nil
}

// tidy gives memory back to the system once a burst of new streams has
// settled (none opened for one interval after some were): each stream's
// TLS handshakes leave garbage and grown goroutine stacks that Go would
// otherwise keep until its next collection, which an idle hub may not run
// for minutes (1,000 idle PCs: RSS from about 117 MB to the live set,
// docs/PERFORMANCE.md). At most once a minute; a collection of the live
// set costs tens of milliseconds.
func (s *Server) tidy(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var seen uint64
	busy, last := false, time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		n := s.opened
		s.mu.Unlock()
		switch {
		case n != seen:
			busy, seen = true, n
		case busy && time.Since(last) >= time.Minute:
			busy, last = false, time.Now()
			debug.FreeOSMemory()
		}
	}
}

// Status is what the hub carries now, for its admin's log.
type Status struct {
	Enrolled int    // stations enrolled
	Online   int    // stations holding a control connection
	Streams  int    // relays and forwarded web requests, waiting or open
	Waiting  int    // of Streams, those waiting for their station to answer
	Spliced  int    // relays spliced now
	IdleCut  uint64 // relays closed since start after RelayIdle without a byte
	// PlainLegs counts relays since start whose station end came as a
	// plain data leg (plain.go).
	PlainLegs uint64
}

// Status counts what the hub carries now.
func (s *Server) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{Enrolled: len(s.state.Stations), Online: len(s.online), Streams: s.relays, Spliced: len(s.live), IdleCut: s.idleCut, PlainLegs: s.plainLegs}
	for _, n := range s.waiting {
		st.Waiting += n
	}
	return st
}

// liveRelay is a spliced relay as the idle sweep sees it.
type liveRelay struct {
	moved atomic.Uint64 // reads that brought bytes, either way
	seen  uint64        // moved at the last sweep (under Server.mu)
	since time.Time     // when the sweep last saw moved change (under Server.mu)
	cut   context.CancelFunc
	gone  bool // cut for idleness (under Server.mu)
}

// sweepIdle closes idle relays every interval until ctx ends: a relay is
// cut between RelayIdle and RelayIdle+every after its last byte.
func (s *Server) sweepIdle(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.cutIdle()
		}
	}
}

// cutIdle closes the relays that moved no byte for RelayIdle by the hub's
// clock, and returns how many it closed.
func (s *Server) cutIdle() int {
	var cut []context.CancelFunc
	s.mu.Lock()
	now := s.clock()
	for lr := range s.live {
		if n := lr.moved.Load(); n != lr.seen {
			lr.seen, lr.since = n, now
			continue
		}
		if !lr.gone && s.RelayIdle > 0 && now.Sub(lr.since) >= s.RelayIdle {
			lr.gone = true
			s.idleCut++
			cut = append(cut, lr.cut)
		}
	}
	s.mu.Unlock()
	for _, c := range cut {
		c()
	}
	if len(cut) > 0 {
		s.log.Info("relays closed after idling", "count", len(cut), "idle", s.RelayIdle)
	}
	return len(cut)
}
