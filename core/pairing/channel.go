package pairing

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/yamux"

	"adhocstation/core"
	"adhocstation/core/wire"
)

// The live channel: a paired PC's service upgrades one HTTPS request on
// this port to a yamux session (docs/PROTOCOL.md, "Live channel"). An HTTP
// upgrade rather than an ALPN protocol of its own keeps one listener, one
// TLS configuration and one pin, and lets a refusal be the same JSON
// answer as every other agent call, before anything is multiplexed.

// Default keepalive: a ping every 2 s that must be answered within 2 s, so
// a cut cable shows the PC offline within about 4 s (the issue asks 5).
const (
	defaultChannelKeepAlive = 2 * time.Second
	defaultChannelTimeout   = 2 * time.Second
)

// maxChannelsPerSession bounds the channels one session may hold: the
// live one and, while a reconnect overlaps the old connection's keepalive
// timeout, the old one. A further channel closes the oldest, so the
// newest (the PC's current connection) always wins and a PC opening
// channels in a loop holds no more than two.
const maxChannelsPerSession = 2

// pcStreamBacklog is how many streams the PC may open on a channel: the
// station never accepts one (it opens every stream itself), so each waits
// in yamux's queue holding up to its 256 KiB window until the channel
// closes, and the next ones are reset at once. yamux uses the same number
// to bound the station's own opens still waiting for the PC's answer, so
// it is a few rather than one.
const pcStreamBacklog = 4

// liveChannels holds the open channels by session, oldest first, so the
// station can drop them when the session ends and on Close.
type liveChannels struct {
	mu     sync.Mutex
	m      map[int64][]*yamux.Session
	closed bool
	// hub holds the channels that came through the relay hub.
	hub map[*yamux.Session]bool
}

// markHub records that ys came through the relay hub.
func (l *liveChannels) markHub(ys *yamux.Session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hub == nil {
		l.hub = map[*yamux.Session]bool{}
	}
	l.hub[ys] = true
}

// throughHub reports whether the newest live channel of id came through
// the relay hub.
func (l *liveChannels) throughHub(id int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	set := l.m[id]
	return len(set) > 0 && l.hub[set[len(set)-1]]
}

// add records ys and returns the channels of the session it pushes out
// (to be closed); ok is false (and ys must be closed) once the server closed.
func (l *liveChannels) add(id int64, ys *yamux.Session) (evicted []*yamux.Session, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, false
	}
	if l.m == nil {
		l.m = map[int64][]*yamux.Session{}
	}
	set := append(l.m[id], ys)
	if n := len(set) - maxChannelsPerSession; n > 0 {
		evicted = slices.Clone(set[:n])
		set = slices.Delete(set, 0, n)
	}
	l.m[id] = set
	return evicted, true
}

func (l *liveChannels) remove(id int64, ys *yamux.Session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.hub, ys)
	l.m[id] = slices.DeleteFunc(l.m[id], func(x *yamux.Session) bool { return x == ys })
	if len(l.m[id]) == 0 {
		delete(l.m, id)
	}
}

// take removes and returns the channels of id (all sessions when all).
func (l *liveChannels) take(id int64, all bool) []*yamux.Session {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*yamux.Session
	for sid, set := range l.m {
		if all || sid == id {
			out = append(out, set...)
			delete(l.m, sid)
			for _, ys := range set {
				delete(l.hub, ys)
			}
		}
	}
	if all {
		l.closed = true
	}
	return out
}

// idle returns the channels that carry no stream: no technician is
// connected through them.
func (l *liveChannels) idle() []*yamux.Session {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*yamux.Session
	for _, set := range l.m {
		for _, ys := range set {
			if ys.NumStreams() == 0 {
				out = append(out, ys)
			}
		}
	}
	return out
}

func (l *liveChannels) ids() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]int64, 0, len(l.m))
	for id := range l.m {
		out = append(out, id)
	}
	return out
}

// dropChannels closes the channels of a session that is no longer active:
// the PC reconnects at once and is told to clean up.
func (s *Server) dropChannels(id int64) {
	for _, ys := range s.live.take(id, false) {
		ys.Close()
	}
}

// dropClosedChannels checks every channel's session (after missed events).
func (s *Server) dropClosedChannels(ctx context.Context) {
	for _, id := range s.live.ids() {
		if sess, err := s.st.Session(ctx, id); err == nil && sess.State != core.StateActive {
			s.dropChannels(id)
		}
	}
}

func (s *Server) handleChannel(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), wire.ChannelProtocol) {
		writeError(w, &apiError{status: http.StatusUpgradeRequired, body: wire.Error{Code: wire.CodeBadRequest,
			Message: "This address takes the Support Session app's live channel only. Download the current app from the invitation link."}})
		return
	}
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || key == "" || len(key) > 256 {
		writeError(w, &apiError{status: http.StatusBadRequest, body: wire.Error{Code: wire.CodeBadRequest,
			Message: "The live channel needs the app's agent key. Download the app again from the invitation link."}})
		return
	}
	if wait := s.agents.take(key, s.st.Now()); wait > 0 {
		writeError(w, agentTooOften(wait))
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), callTimeout)
	defer cancel()
	// The yamux session is made before core counts the channel, so
	// Connect never finds a channel it cannot open streams on; it starts
	// only once the 101 answer is written.
	var ys *yamux.Session
	opener := &lateOpener{ready: make(chan struct{})}
	sess, release, err := s.st.OpenChannel(ctx, key, opener)
	if err == nil || errors.Is(err, core.ErrSessionClosed) {
		s.agents.known(key)
	}
	if errors.Is(err, core.ErrSessionClosed) {
		// Not a refusal: the session is over and the answer says how, so
		// the PC removes the account and the app.
		writeJSON(w, http.StatusOK, status(sess))
		return
	}
	if err != nil {
		writeError(w, s.refusal("channel", err, true))
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		opener.set(nil)
		release()
		s.log.Error("the live channel cannot take over the connection", "err", err)
		writeError(w, &apiError{status: http.StatusInternalServerError, body: wire.Error{Code: wire.CodeInternal,
			Message: "The station could not open the live channel. The app tries again."}})
		return
	}
	// The HTTP server's read and write deadlines would cut the channel.
	_ = conn.SetDeadline(time.Time{})
	// The pins of the team's other stations ride on the answer, so the PC
	// accepts them when one takes it over (teamowner.go).
	_, err = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: "+wire.ChannelProtocol+"\r\nConnection: Upgrade\r\n"+s.teamPinsLine()+"\r\n")
	if err == nil {
		ys, err = yamux.Server(bufferedConn{Conn: conn, r: brw.Reader}, s.channelConfig())
	}
	opener.set(ys)
	if err != nil {
		conn.Close()
		release()
		return
	}
	if ViaHub(r.Context()) {
		s.live.markHub(ys) // before add, so the Computers page never sees it unmarked
	}
	evicted, ok := s.live.add(sess.ID, ys)
	if !ok {
		ys.Close()
		release()
		return
	}
	for _, old := range evicted {
		old.Close()
	}
	go func() {
		<-ys.CloseChan()
		s.live.remove(sess.ID, ys)
		release()
	}()
	// The session may have ended between the check and add: its event
	// found no channel to drop, so look again.
	if now, err := s.st.Session(ctx, sess.ID); err == nil && now.State != core.StateActive {
		s.dropChannels(sess.ID)
	}
}

func (s *Server) channelConfig() *yamux.Config {
	cfg := yamux.DefaultConfig()
	cfg.KeepAliveInterval, cfg.ConnectionWriteTimeout = defaultChannelKeepAlive, defaultChannelTimeout
	if s.opts.ChannelKeepAlive > 0 {
		cfg.KeepAliveInterval = s.opts.ChannelKeepAlive
	}
	if s.opts.ChannelTimeout > 0 {
		cfg.ConnectionWriteTimeout = s.opts.ChannelTimeout
	}
	cfg.LogOutput = io.Discard
	// A file transfer stalls on the 256 KiB default window whenever the
	// reader is not scheduled; the buffer only grows with unread data,
	// so an idle channel costs nothing more.
	cfg.MaxStreamWindowSize = 4 << 20
	cfg.AcceptBacklog = pcStreamBacklog
	return cfg
}

// bufferedConn reads what the HTTP server had already buffered first.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// lateOpener opens streams on a yamux session that is made after core has
// counted the channel; until then (a moment) Open waits for it.
type lateOpener struct {
	ready chan struct{}
	ys    *yamux.Session
}

func (o *lateOpener) set(ys *yamux.Session) { o.ys = ys; close(o.ready) }

func (o *lateOpener) Open() (net.Conn, error) {
	select {
	case <-o.ready:
	case <-time.After(5 * time.Second):
		return nil, errors.New("the live channel did not start")
	}
	if o.ys == nil {
		return nil, errors.New("the live channel did not start")
	}
	return o.ys.Open()
}
