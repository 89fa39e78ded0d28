package pairing

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"adhocstation/core"
	"adhocstation/core/hublink"
)

// HubState is the station's link to its relay hub as Settings shows it.
type HubState struct {
	Configured bool   // a hub is joined; false: direct mode
	Connected  bool   // the control connection is up
	URL        string // the hub, https://HOST[:PORT]
	StationID  string // enrolled as
	LastError  string // why the link last went down; "" when it never did
	Since      time.Time
	// PlainOffUntil: a plain data leg failed (PlainError says why), so
	// relays come through the hub's TLS WebSocket, slower, until then
	// (docs/HUB.md "Plain data legs"). Zero when none failed.
	PlainOffUntil time.Time
	PlainError    string // for the log and tests; the window says it in words
}

// hubRun is one running link: the control connection and the HTTP server
// serving the relayed connections it accepts.
type hubRun struct {
	access core.HubAccess
	link   *hublink.Link
	srv    *http.Server // the app's relays: the pinned TLS, every handler
	web    *http.Server // browsers' requests forwarded by the hub: plain HTTP, pages only
	cancel context.CancelFunc
	// peers are the team's other stations as stored (teamowner.go): their
	// pins go on the live channel's answer while no team client runs yet
	// (or it could not start). Under Server.hubMu.
	peers map[string]core.TeamPeer
}

type viaHubKey struct{}

type viaHubWebKey struct{}

// ViaHub reports whether the request came through the relay hub.
func ViaHub(ctx context.Context) bool { return hubOf(ctx) != "" }

// hubOf is the hub (https://HOST[:PORT]) the request came through, "" when
// it came directly.
func hubOf(ctx context.Context) string { v, _ := ctx.Value(viaHubKey{}).(string); return v }

// viaHubWeb reports whether a browser's request was forwarded by the hub
// (https://HUB/st/ID/...): the browser saw the hub's certificate.
func viaHubWeb(ctx context.Context) bool { v, _ := ctx.Value(viaHubWebKey{}).(bool); return v }

// syncHub starts, restarts or stops the link so that it matches the saved
// hub configuration. Joining or leaving a hub thus needs no restart.
func (s *Server) syncHub(ctx context.Context) {
	acc, ok, err := s.st.HubAccess(ctx)
	if err != nil {
		s.log.Error("the hub configuration cannot be read; PCs are reached directly only", "err", err)
	}
	s.hubMu.Lock()
	cur := s.hub
	if cur != nil && ok && cur.access == acc {
		s.hubMu.Unlock()
		return
	}
	s.hub = nil
	s.hubMu.Unlock()
	if cur != nil {
		cur.stop()
	}
	if cur != nil {
		s.setTeamState(nil, TeamState{})
		s.setTeamList(nil, nil)
	}
	if !ok {
		if cur != nil {
			s.setHubState(HubState{Since: s.st.Now()})
		}
		return
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return
	}
	client := s.opts.HubClient
	if client == nil {
		client = core.HubHTTPClient()
	}
	r := &hubRun{access: acc, srv: s.httpServer(), peers: s.storedPeers(ctx, acc.StationID)}
	r.srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		// A relay the hub routed here for a takeover is marked too (takeover.go).
		return takeoverContext(context.WithValue(ctx, viaHubKey{}, acc.URL), c)
	}
	r.srv.Handler = s.takeoverGuard(r.srv.Handler) // a takeover's requests are not the app's usual ones
	r.link = &hublink.Link{Hub: acc.URL, Credential: acc.Credential, Client: client,
		OnState: func(up bool, err error) {
			if up {
				// A hub that restarted, or dropped this link, forgot the
				// takeovers this station holds: ask for them again.
				go s.renewTakeovers(r)
			}
			st := HubState{Configured: true, Connected: up, URL: acc.URL, StationID: acc.StationID, Since: s.st.Now()}
			if err != nil && !errors.Is(err, context.Canceled) {
				st.LastError = err.Error()
				s.log.Info("the link to the hub is down; redialling", "hub", acc.URL, "err", err)
			} else if up {
				s.log.Info("the link to the hub is up", "hub", acc.URL, "station", acc.StationID)
			}
			prev := s.HubState()
			if !up && st.LastError == "" {
				st.LastError = prev.LastError
			}
			st.PlainOffUntil, st.PlainError = prev.PlainOffUntil, prev.PlainError
			s.setHubState(st)
		},
		OnPlainFailed: func(err error) {
			s.log.Info("a relay could not come from the hub as a plain data leg (a firewall that passes only TLS?); relays use the TLS WebSocket for the next 10 minutes", "hub", acc.URL, "err", err)
			st := s.HubState()
			st.PlainOffUntil, st.PlainError = s.st.Now().Add(hublink.PlainRetry), err.Error()
			s.setHubState(st)
		}}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	s.hubMu.Lock()
	if s.hubStopped { // Close ran meanwhile: it found no link to stop
		s.hubMu.Unlock()
		cancel()
		return
	}
	s.hub = r
	s.hubMu.Unlock()
	s.setHubState(HubState{Configured: true, URL: acc.URL, StationID: acc.StationID, Since: s.st.Now()})
	// The join page and the download as the hub forwards them: the hub
	// ended the browser's TLS, so this server is plain HTTP and serves the
	// pages only, never the app's API.
	web := http.NewServeMux()
	s.routePages(web)
	r.web = s.httpServer()
	r.web.Handler, r.web.TLSConfig = web, nil
	r.web.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, viaHubWebKey{}, true)
	}
	webLn := r.link.HTTP() // before Run: the hub's first forwarded request finds it
	go r.link.Run(lctx)
	go s.runTeam(lctx, r, acc, client)
	go func() {
		err := r.srv.ServeTLS(relayListener{Listener: r.link, hub: acc.URL}, "", "")
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.log.Error("the pairing service stopped serving the hub's relays", "hub", acc.URL, "err", err)
		}
	}()
	go func() {
		err := r.web.Serve(relayListener{Listener: webLn, hub: acc.URL})
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.log.Error("the pairing service stopped serving pages through the hub", "hub", acc.URL, "err", err)
		}
	}()
}

func (r *hubRun) stop() {
	r.cancel()
	r.link.Close()
	go retire(r.srv)
	go retire(r.web)
}

// stopHub ends the link when the service closes.
func (s *Server) stopHub() {
	s.hubMu.Lock()
	r := s.hub
	s.hub, s.hubStopped = nil, true
	s.hubMu.Unlock()
	if r != nil {
		r.cancel()
		r.link.Close()
		r.srv.Close()
		r.web.Close()
	}
}

func (s *Server) setHubState(st HubState) {
	s.hubMu.Lock()
	// A late report from a link already replaced says nothing of the new one.
	if st.Configured && (s.hub == nil || s.hub.access.URL != st.URL || s.hub.access.StationID != st.StationID) {
		s.hubMu.Unlock()
		return
	}
	s.hubState = st
	s.hubMu.Unlock()
	if s.opts.OnHubState != nil {
		s.opts.OnHubState(st)
	}
}

// HubState is the link to the hub now.
func (s *Server) HubState() HubState {
	s.hubMu.Lock()
	defer s.hubMu.Unlock()
	return s.hubState
}

// relayFor is the hub and a relay token for a session's download, whose
// session may be paired until the invitation expires and then lasts
// core.SessionLength: the token's exp is that latest end. The pair answer
// gives a token with the exact end (handlePair).
func (s *Server) relayFor(ctx context.Context, sess core.Session) (core.HubRelay, bool) {
	rel, ok, err := s.st.RelayToken(ctx, sess.ID, sess.InviteExpiresAt.Add(core.SessionLength))
	if err != nil {
		s.log.Error("no relay token for the download; it reaches the station directly", "err", err)
	}
	return rel, ok && err == nil
}

// relayListener gives an HTTP server the link's streams (relays or
// forwarded web requests) with read deadlines that behave as on TCP
// (hublink.Deadlines): net/http sets one to stop its background read,
// e.g. when the live channel hijacks the connection.
type relayListener struct {
	net.Listener
	hub string
}

func (l relayListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c = hublink.Deadlines(c)
	if _, ok := c.RemoteAddr().(*net.TCPAddr); !ok {
		// The hub did not say whose it is: the per-address limits and
		// the audit then see one peer, the hub.
		c = relayedConn{Conn: c, from: relayAddr("through-hub:" + strings.TrimPrefix(l.hub, "https://"))}
	}
	return c, nil
}

// relayedConn names its peer by the hub it came through, for a hub that
// does not pass the app's address (the link's streams then say only
// "websocket/unknown-addr").
type relayedConn struct {
	net.Conn
	from net.Addr
}

func (c relayedConn) RemoteAddr() net.Addr { return c.from }

type relayAddr string

func (a relayAddr) Network() string { return "hub" }
func (a relayAddr) String() string  { return string(a) }

// ThroughHub reports whether session id's PC holds its live channel
// through the relay hub (the Computers page says so).
func (s *Server) ThroughHub(id int64) bool { return s.live.throughHub(id) }
