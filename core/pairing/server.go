// Package pairing is the station's HTTPS pairing service: the deployment
// link's page and download, and the /api/v1/ calls of the Support Session
// app (see docs/PROTOCOL.md). It serves TLS 1.3 only, with the station's
// own certificate (or an organisation's), whose key the app pins.
package pairing

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"adhocstation/core"
	"adhocstation/core/team"
	"adhocstation/core/wire"
)

// Options adjust the service; the zero value uses the saved settings.
type Options struct {
	// ListenAddr overrides the saved pairing address, e.g. "127.0.0.1:0"
	// in tests; settings changes then never move the listener.
	ListenAddr string
	// Logger receives errors; nil means slog.Default().
	Logger *slog.Logger
	// AgentExe replaces the embedded Support Session app (tests); nil uses
	// assets/agent/AdHocSupport.exe, empty means there is no app to offer.
	AgentExe []byte
	// OnReload, if set, is called after the service applied changed
	// settings, with the error that kept the old ones, if any.
	OnReload func(error)
	// ChannelKeepAlive and ChannelTimeout set the live channel's ping
	// interval and how long a ping may go unanswered before the PC counts
	// as offline (2 s each when zero; tests shorten them).
	ChannelKeepAlive, ChannelTimeout time.Duration
	// HubClient reaches the relay hub (nil: core.HubHTTPClient, which
	// trusts the system roots and honours HTTPS_PROXY); tests give one
	// trusting their hub's certificate.
	HubClient *http.Client
	// OnHubState, if set, is told each change of the hub link (hub.go).
	OnHubState func(HubState)
	// OnTeamState and OnTeamList, if set, are told each change of the
	// station's team and of the other stations' sessions (team.go).
	OnTeamState func(TeamState)
	OnTeamList  func([]TeamSession)
	// TeamLeaseTTL is how long the station's team claims outlive it
	// (0: core/team's default, 30 s; tests shorten it).
	TeamLeaseTTL time.Duration
	// StationName is how the other stations of the team name this one
	// (default: the computer's host name, as the hub enrolled it).
	StationName string
}

// timeouts for slow or idle clients (a variable so tests can shorten it).
// Downloads get longer (see pages.go).
var timeouts = struct{ readHeader, read, write, idle time.Duration }{
	readHeader: 5 * time.Second,
	read:       15 * time.Second,
	write:      30 * time.Second,
	idle:       60 * time.Second,
}

// Server is the running pairing service.
type Server struct {
	st   *core.Station
	opts Options
	log  *slog.Logger
	exe  []byte
	// sig is exe's signature; signed, when set, tags each download.
	sig    AppSignature
	signed *wire.SignedApp
	certs  atomic.Pointer[certSet]
	mux    *http.ServeMux
	// limited answers known rate-limited addresses from memory.
	limited limitedSet
	// agents counts the paired apps' calls per agent key.
	agents agentLimiter
	// narrow is the lane of hopeless pairing attempts (see lane).
	narrow chan struct{}
	// live holds the paired PCs' open channels (channel.go).
	live liveChannels
	// taken holds the channels of PCs of other stations this one takes over (takeover.go).
	taken takeovers

	// reloading serialises reload: Settings' Apply and the settings event
	// both call it, and two would open the new address twice.
	reloading sync.Mutex

	mu      sync.Mutex
	srv     *http.Server
	ln      net.Listener
	addr    net.Addr
	applied core.PairingSettings
	closed  bool

	sub *core.Subscription

	hubMu      sync.Mutex
	hub        *hubRun  // the running link to the hub; nil in direct mode
	hubStopped bool     // Close stopped the link: no new one starts
	hubState   HubState // what Settings shows
	teamState  TeamState
	teamList   []TeamSession
	teamClient *team.Client // the running team client, nil when none (team.go)

	// tookDone: the takeover notices recorded, by session and taker, with
	// their time (teamowner.go).
	tookMu   sync.Mutex
	tookDone map[string]time.Time
}

// Start loads or makes the certificate, listens and serves until ctx ends
// or Close is called. It follows settings changes: a new certificate or
// public host name is served to new connections at once; a new listen
// address moves the listener (the old one keeps running if the new one
// cannot be opened). An organisation certificate that cannot be loaded is
// logged and the station's own one served instead. Errors: the address
// cannot be opened, or the station's own certificate cannot be made.
func Start(ctx context.Context, st *core.Station, opts Options) (*Server, error) {
	s := &Server{st: st, opts: opts, log: opts.Logger, narrow: make(chan struct{}, narrowLane)}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.exe = opts.AgentExe; s.exe == nil {
		s.exe = embeddedAgent()
	}
	if len(s.exe) == 0 {
		s.exe = nil
	}
	if s.sig, s.signed = signature(s.exe); s.sig.Problem != "" {
		s.log.Error("the Support Session app's signature cannot be used", "err", s.sig.Problem)
	}
	// Subscribed before reading the settings, so no change is missed.
	s.sub = st.Subscribe()
	set, err := st.Settings(ctx)
	if err != nil {
		s.sub.Close()
		return nil, err
	}
	if err = s.loadCerts(set.Pairing); err != nil && set.Pairing.CertFile != "" {
		// PCs can still pair with the station's own certificate (the app pins
		// whatever is served); only browsers warn again.
		s.log.Error("the organisation certificate cannot be used; serving the station's own certificate", "err", err)
		own := set.Pairing
		own.CertFile, own.KeyFile = "", ""
		err = s.loadCerts(own)
	}
	if err != nil {
		s.sub.Close()
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.routeAPI(s.mux)
	s.routePages(s.mux)
	if err := s.listen(s.listenAddr(set.Pairing)); err != nil {
		s.sub.Close()
		return nil, err
	}
	s.applied = set.Pairing
	s.syncHub(ctx)
	go s.follow(ctx)
	return s, nil
}

func (s *Server) listenAddr(p core.PairingSettings) string {
	if s.opts.ListenAddr != "" {
		return s.opts.ListenAddr
	}
	return p.ListenAddr
}

func (s *Server) loadCerts(p core.PairingSettings) error {
	c, err := loadCerts(s.st.DataDir(), p.CertFile, p.KeyFile, certHosts(p.PublicHost), time.Now())
	if err != nil {
		return err
	}
	s.certs.Store(c)
	s.hubMu.Lock()
	tc := s.teamClient
	s.hubMu.Unlock()
	if tc != nil { // the teammates tell their PCs the new pin (teamowner.go)
		tc.SetPin(s.ownPin())
	}
	return nil
}

// listen opens addr and serves on it, then retires the previous listener.
func (s *Server) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return core.Errorf("pairing_listen", "The pairing service cannot listen on %s (%w). Choose another pairing address in Settings, or stop the program using it, then restart the station.", addr, err)
	}
	srv := s.httpServer()
	go func() {
		err := srv.ServeTLS(ln, "", "")
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.log.Error("the pairing service stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	s.mu.Lock()
	if s.closed { // Close ran while this address was opening
		s.mu.Unlock()
		srv.Close()
		return nil
	}
	old, oldLn := s.srv, s.ln
	s.srv, s.ln, s.addr = srv, ln, ln.Addr()
	s.mu.Unlock()
	if old != nil {
		// The old address stops taking connections now; its running
		// requests (a download, say) may finish.
		oldLn.Close()
		go retire(old)
	}
	return nil
}

// httpServer is the pairing service's HTTP server with its TLS: the same
// for the direct listener and the hub's relayed connections (hub.go), so
// the app's pin and every handler work alike on both.
func (s *Server) httpServer() *http.Server {
	return &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: timeouts.readHeader,
		ReadTimeout:       timeouts.read,
		WriteTimeout:      timeouts.write,
		IdleTimeout:       timeouts.idle,
		MaxHeaderBytes:    16 << 10,
		TLSConfig: &tls.Config{
			MinVersion: tls.VersionTLS13,
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
				return s.certs.Load().cert, nil
			},
		},
		// Browsers refusing the self-signed certificate cause handshake
		// errors all day; they are not worth more than a debug line.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// retire lets running requests (a download, say) finish for a while.
func retire(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if srv.Shutdown(ctx) != nil {
		srv.Close()
	}
}

// follow applies settings changes until the station or the server closes.
func (s *Server) follow(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			s.Close()
			return
		case ev, ok := <-s.sub.C:
			if !ok {
				return
			}
			switch ev.Kind {
			case core.EventEnded, core.EventExpired, core.EventCancelled, core.EventCleanedUp:
				s.dropChannels(ev.SessionID)
			case core.EventLagged:
				s.dropClosedChannels(ctx)
			}
			if ev.Kind == core.EventSettings || ev.Kind == core.EventLagged {
				err := s.reload(ctx)
				if err != nil {
					s.log.Error("the pairing service keeps its previous settings", "err", err)
				}
				if s.opts.OnReload != nil {
					s.opts.OnReload(err)
				}
			}
		}
	}
}

// Apply applies the saved pairing settings now rather than when the
// settings event arrives, so Settings can say at once whether they took.
// Errors: the new pairing address cannot be opened (the previous one keeps
// serving), or the certificate cannot be loaded.
func (s *Server) Apply(ctx context.Context) error { return s.reload(ctx) }

// reload applies saved pairing settings that differ from the running ones.
func (s *Server) reload(ctx context.Context) error {
	s.reloading.Lock()
	defer s.reloading.Unlock()
	set, err := s.st.Settings(ctx)
	if err != nil {
		return err
	}
	p := set.Pairing
	s.mu.Lock()
	prev, closed := s.applied, s.closed
	s.mu.Unlock()
	if closed {
		return nil
	}
	fallback := p.CertFile != "" && s.certs.Load().selfSigned // the organisation's did not load before
	if fallback || p.CertFile != prev.CertFile || p.KeyFile != prev.KeyFile || p.PublicHost != prev.PublicHost {
		if err := s.loadCerts(p); err != nil {
			return err
		}
	}
	if s.listenAddr(p) != s.listenAddr(prev) {
		if err := s.listen(s.listenAddr(p)); err != nil {
			if ne := (*net.OpError)(nil); errors.As(err, &ne) {
				err = ne.Err // the reason, without the start-up advice to restart
			}
			return core.Errorf("pairing_listen", "The pairing service cannot listen on %s (%w), so it keeps listening on %s. Choose another port, or stop the program using that one.",
				s.listenAddr(p), err, s.listenAddr(prev))
		}
	}
	s.mu.Lock()
	s.applied = p
	s.mu.Unlock()
	s.syncHub(ctx)
	return nil
}

// Close stops the service; running requests get a moment to finish.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv := s.srv
	s.mu.Unlock()
	s.sub.Close()
	s.stopHub()
	// Hijacked channels are not the HTTP server's to close.
	for _, ys := range s.live.take(0, true) {
		ys.Close()
	}
	s.taken.closeAll()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return srv.Close()
	}
	return nil
}

// Addr is the address the service listens on now.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL is https://127.0.0.1:PORT (or the listen IP when it is bound to one),
// for tests and local checks.
func (s *Server) URL() string {
	a, _ := s.Addr().(*net.TCPAddr)
	host := "127.0.0.1"
	if a != nil && !a.IP.IsUnspecified() {
		host = a.IP.String()
	}
	port := 0
	if a != nil {
		port = a.Port
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// Pins are the base64 SHA-256 digests of the public keys a downloaded app
// accepts: the served one first.
func (s *Server) Pins() []string {
	return append([]string(nil), s.certs.Load().pins...)
}

// SelfSigned reports whether the station serves its own certificate, so
// browsers warn about the deployment link.
func (s *Server) SelfSigned() bool { return s.certs.Load().selfSigned }

// Fingerprint is the served certificate's SHA-256 as browsers show it.
func (s *Server) Fingerprint() string { return s.certs.Load().fingerprint }

var _ io.Closer = (*Server)(nil)
