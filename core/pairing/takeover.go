package pairing

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/yamux"

	"adhocstation/core"
	"adhocstation/core/hublink"
	"adhocstation/core/refusal"
	"adhocstation/core/remote"
	"adhocstation/core/team"
	"adhocstation/core/wire"
)

// Taking over (/work/notes/takeover.md, docs/TEAM.md): this station (B)
// connects to a PC paired at another station of its team (A, the owner).
// B asks the hub to route the PC's relays to it, writes the took key A
// acts on (A drops its channel), and serves the live channel the PC then
// opens with A's relay token. Such a relay arrives with the owner's id in
// its control message: B has no session of its own for it, so the
// channel is accepted without a local lookup (the hub verified A's signed
// token for exactly that owner and session) and kept in a registry of its
// own, which only a TakeOver of this station waits on. Nothing else of
// the app's API is served on such a connection: check-ins, receipts and
// the rest belong to the owner, so they are answered "not the owner, try
// again later" and the PC keeps its state for when it is back at A.

// takeoverWait bounds TakeOver when ctx has no deadline: the PC's backoff
// is at most 30 s, and A needs a moment to see the took key.
const takeoverWait = 60 * time.Second

// Refusals of TakeOver.
var (
	ErrTakeoverNoHub = refusal.New("takeover_no_hub", "This station is not connected to its team's hub now, so it cannot connect to a PC of another station. Check Settings' hub group, then try again.")
	ErrTakeoverBusy  = refusal.New("takeover_busy", "This station is already connected to that PC (or waiting for it). Use the open remote window, or close it and try again.")
	ErrTakeoverWait  = refusal.New("takeover_timeout", "The PC did not come to this station in time: it may be off, asleep or off the network, or its station still holds it. Try again in a minute; the Computers page shows when the PC is online.")
	ErrTakeoverHub   = refusal.New("takeover_refused", "The hub did not hand the PC to this station. Try again; if it keeps failing, ask the hub's administrator.")
)

// takeoverKey names a session of another station: its hub id and session id there.
type takeoverKey struct {
	owner   string
	session int64
}

// takeoverSlot is one session this station takes over: the PC's newest
// channel, once it came.
type takeoverSlot struct {
	mu    sync.Mutex
	ys    *yamux.Session
	came  chan struct{} // closed at the first channel
	ended bool
}

// Open opens a stream on the PC's newest channel (remote.StreamOpener).
func (t *takeoverSlot) Open() (net.Conn, error) {
	t.mu.Lock()
	ys := t.ys
	t.mu.Unlock()
	if ys == nil {
		return nil, errors.New("the PC's channel to this station is closed")
	}
	return ys.Open()
}

// takeovers is the registry of the sessions of other stations this station
// waits for or serves.
type takeovers struct {
	mu sync.Mutex
	m  map[takeoverKey]*takeoverSlot
}

// open registers k; false when it is already registered.
func (l *takeovers) open(k takeoverKey) (*takeoverSlot, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[takeoverKey]*takeoverSlot{}
	}
	if _, ok := l.m[k]; ok {
		return nil, false
	}
	t := &takeoverSlot{came: make(chan struct{})}
	l.m[k] = t
	return t, true
}

// serve makes ys the channel of k and returns the one it replaces (to be
// closed); ok false: k is not taken over here (ys must be refused).
func (l *takeovers) serve(k takeoverKey, ys *yamux.Session) (old *yamux.Session, ok bool) {
	l.mu.Lock()
	t := l.m[k]
	l.mu.Unlock()
	if t == nil {
		return nil, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return nil, false
	}
	old, t.ys = t.ys, ys
	if old == nil {
		close(t.came)
	}
	return old, true
}

// gone forgets ys when it closes (the PC redials; a newer one may be in).
func (l *takeovers) gone(k takeoverKey, ys *yamux.Session) {
	l.mu.Lock()
	t := l.m[k]
	l.mu.Unlock()
	if t == nil {
		return
	}
	t.mu.Lock()
	if t.ys == ys {
		t.ys = nil
	}
	t.mu.Unlock()
}

// close forgets k (only while t is its slot) and closes its channel.
func (l *takeovers) close(k takeoverKey, t *takeoverSlot) {
	l.mu.Lock()
	if l.m[k] == t {
		delete(l.m, k)
	}
	l.mu.Unlock()
	t.mu.Lock()
	ys := t.ys
	t.ys, t.ended = nil, true
	t.mu.Unlock()
	if ys != nil {
		ys.Close()
	}
}

// closeAll closes every taken-over channel (the service closes).
func (l *takeovers) closeAll() {
	l.mu.Lock()
	all := l.m
	l.m = nil
	l.mu.Unlock()
	for k, t := range all {
		l.close(k, t)
	}
}

// keys lists the sessions taken over here (waiting or served).
func (l *takeovers) keys() []takeoverKey {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]takeoverKey, 0, len(l.m))
	for k := range l.m {
		out = append(out, k)
	}
	return out
}

// renewTakeovers registers this station's takeovers again when its hub
// link comes (back) up: the hub keeps them only while the link lasts and
// in memory, so after a dropped link or a hub restart the PC would
// otherwise go back to its owner while the remote window here stays open.
// A takeover new to the hub cuts the owner's relay, so the PC comes here.
func (s *Server) renewTakeovers(r *hubRun) {
	for _, k := range s.taken.keys() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err := r.link.Takeover(ctx, k.owner, strconv.FormatInt(k.session, 10), false)
		cancel()
		if err != nil {
			s.log.Warn("a takeover could not be asked of the hub again; the PC may go back to its station", "owner", k.owner, "session", k.session, "err", err)
			continue
		}
		s.log.Info("takeover asked of the hub again after the link came back", "owner", k.owner, "session", k.session)
	}
}

// TakeOver connects this station to the PC of session at station owner
// (its hub id): it asks the hub to route the PC's relays here, tells the
// owner through the team (the hub cut the owner's relay, and the owner
// drops its channel too, so the PC redials here),
// and waits until the PC's channel arrives, or ctx ends (60 s when ctx has
// no deadline). It returns the opener to sign in with (core's
// ConnectTeam) and the release, which gives the PC back to its owner:
// call it once the remote window closes. Refusals: ErrNoTeamNow,
// team.ErrRevoked, ErrTakeoverNoHub, ErrTakeoverBusy, the hub's refusal
// (its sentence, as ErrTakeoverHub's code), ErrTakeoverWait.
func (s *Server) TakeOver(ctx context.Context, owner string, session int64) (remote.StreamOpener, func(), error) {
	s.hubMu.Lock()
	r, tc := s.hub, s.teamClient
	s.hubMu.Unlock()
	switch {
	case tc == nil && s.TeamState().Revoked:
		return nil, nil, team.ErrRevoked
	case tc == nil:
		return nil, nil, ErrNoTeamNow
	case r == nil || !s.HubState().Connected:
		return nil, nil, ErrTakeoverNoHub
	}
	k := takeoverKey{owner: owner, session: session}
	slot, ok := s.taken.open(k)
	if !ok {
		return nil, nil, ErrTakeoverBusy
	}
	sid := strconv.FormatInt(session, 10)
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, takeoverWait)
		defer cancel()
	}
	if err := r.link.Takeover(ctx, owner, sid, false); err != nil {
		s.taken.close(k, slot)
		return nil, nil, hubTakeoverRefusal(err)
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			// The hub first, so the PC's next relay goes back to its owner
			// rather than here; then the channel, which makes it redial.
			rctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := r.link.Takeover(rctx, owner, sid, true); err != nil {
				// The hub drops the takeover with this station's link anyway,
				// or after 25 h at most.
				s.log.Warn("the hub could not be told to give a PC back to its station", "owner", owner, "session", sid, "err", err)
			}
			s.taken.close(k, slot)
		})
	}
	if err := s.announceTakeover(ctx, tc, owner, sid); err != nil {
		release()
		return nil, nil, err
	}
	select {
	case <-slot.came:
		s.log.Info("connected to a PC of another station of the team", "owner", owner, "session", sid)
		return slot, release, nil
	case <-ctx.Done():
		release()
		return nil, nil, ErrTakeoverWait
	}
}

// announceTakeover writes the took key the owner acts on (an owner that is
// online then closes its channel; the hub already cut its relays) and whose
// notice it audits, also when it next connects. The PC's name is the one
// the team's list gives, if any.
func (s *Server) announceTakeover(ctx context.Context, tc *team.Client, owner, session string) error {
	computer := ""
	for _, l := range s.TeamSessions() {
		if l.Station == owner && l.Session == session {
			computer = l.Computer
		}
	}
	if err := tc.AnnounceTakeover(ctx, owner, session, s.st.TechnicianHere(ctx), computer); err != nil {
		if _, ok := refusal.Text(err); ok {
			return err // the team's own words (unreachable, revoked)
		}
		return core.Errorf("takeover_announce", "The other station could not be told that this station connects to its PC (%w). Try again; the team's hub may be unreachable.", err)
	}
	return nil
}

// hubTakeoverRefusal words the hub's refusal of a takeover: its own
// sentence (it names what happened) under ErrTakeoverHub's code, or
// ErrTakeoverNoHub when the hub could not be reached at all.
func hubTakeoverRefusal(err error) error {
	var he *hublink.HubError
	if errors.As(err, &he) {
		if he.Status == http.StatusNotFound && he.Code == "http_error" {
			return core.Errorf(ErrTakeoverHub.Code, "The hub does not offer connecting to another station's PC: it must be updated first. Ask the hub's administrator.")
		}
		return core.Errorf(ErrTakeoverHub.Code, "The hub did not hand the PC to this station: %s", strings.TrimSpace(he.Message))
	}
	return ErrTakeoverNoHub
}

type takeoverConnKey struct{}

// takeoverContext marks the requests of a relayed connection that came
// for a takeover (its control message names the owning station).
func takeoverContext(ctx context.Context, c net.Conn) context.Context {
	m, ok := hublink.ControlOf(c)
	if !ok || m.Owner == "" {
		return ctx
	}
	return context.WithValue(ctx, takeoverConnKey{}, m)
}

// takeoverOf is the control message of a takeover connection's request.
func takeoverOf(ctx context.Context) (hublink.ControlMessage, bool) {
	m, ok := ctx.Value(takeoverConnKey{}).(hublink.ControlMessage)
	return m, ok
}

// takeoverGuard serves requests of takeover connections: the live channel
// into the registry, everything else "not the owner".
func (s *Server) takeoverGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, ok := takeoverOf(r.Context())
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet && r.URL.Path == wire.APIPrefix+wire.ChannelPath {
			s.handleTakeoverChannel(w, r, m)
			return
		}
		writeError(w, notOwner())
	})
}

func notOwner() *apiError {
	return &apiError{status: http.StatusServiceUnavailable, body: wire.Error{Code: wire.CodeNotOwner,
		Message: "This station is only connected to the PC for a moment for a teammate; the app tries its own station again shortly."}}
}

// handleTakeoverChannel is handleChannel for a takeover connection: no
// agent key or session of this station to check, the channel goes to the
// TakeOver waiting for it, or is refused "not the owner" when none waits
// (released meanwhile: the PC's next relay goes back to its owner).
func (s *Server) handleTakeoverChannel(w http.ResponseWriter, r *http.Request, m hublink.ControlMessage) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), wire.ChannelProtocol) {
		writeError(w, &apiError{status: http.StatusUpgradeRequired, body: wire.Error{Code: wire.CodeBadRequest,
			Message: "This address takes the Support Session app's live channel only. Download the current app from the invitation link."}})
		return
	}
	id, err := strconv.ParseInt(m.Session, 10, 64)
	k := takeoverKey{owner: m.Owner, session: id}
	if err != nil || !s.taken.waits(k) {
		writeError(w, notOwner())
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		writeError(w, notOwner())
		return
	}
	_ = conn.SetDeadline(time.Time{}) // the HTTP server's deadlines would cut the channel
	// No team pins here: the PC takes them from its owner's answer only.
	_, err = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: "+wire.ChannelProtocol+"\r\nConnection: Upgrade\r\n\r\n")
	var ys *yamux.Session
	if err == nil {
		ys, err = yamux.Server(bufferedConn{Conn: conn, r: brw.Reader}, s.channelConfig())
	}
	if err != nil {
		conn.Close()
		return
	}
	old, ok := s.taken.serve(k, ys)
	if !ok { // released between the check and now
		ys.Close()
		return
	}
	if old != nil {
		old.Close() // the PC's newest connection wins, as for its own station
	}
	go func() {
		<-ys.CloseChan()
		s.taken.gone(k, ys)
	}()
}

// waits reports whether a TakeOver of k is registered here.
func (l *takeovers) waits(k takeoverKey) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.m[k]
	return ok
}
