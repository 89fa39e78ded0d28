package hubsrv

import (
	"cmp"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"adhocstation/core/hublink"
)

// Per-address limits on what the hub does before anyone is known: wrong
// station credentials (each costs a hash and a state lookup) and TLS
// handshakes (each costs a key exchange and a signature, and a slow one
// holds a goroutine and its buffers).

// authLimits is the Server's share of them (embedded in Server).
type authLimits struct {
	authLim *addrLimiter // wrong station credentials (SetRateLimits)
	// HandshakesPerAddress bounds the TLS handshakes in progress from one
	// address (an IPv4 address or an IPv6 /64); HandshakeQueue bounds the
	// connections from it waiting for a turn, beyond which a new one is
	// closed at once. Set before Serve; 0 means the default.
	HandshakesPerAddress, HandshakeQueue int

	hsMu sync.Mutex
	hs   *handshakeListener // the latest Serve's (tests look into it)

	// plain takes a connection that began with something else than a TLS
	// handshake: a station's plain data leg (plain.go). Set by New.
	plain func(net.Conn)
}

// handshakes is ln with the TLS handshakes done by a handshakeListener.
func (a *authLimits) handshakes(ln net.Listener, cfg *tls.Config) net.Listener {
	l := newHandshakeListener(ln, cfg, a.HandshakesPerAddress, a.HandshakeQueue, a.plain)
	a.hsMu.Lock()
	a.hs = l
	a.hsMu.Unlock()
	return l
}

// handshakesFrom is how many handshakes from addr's key are in progress
// and how many connections wait for a turn, in the latest Serve.
func (a *authLimits) handshakesFrom(addr string) (busy, waiting int) {
	a.hsMu.Lock()
	l := a.hs
	a.hsMu.Unlock()
	if l == nil {
		return 0, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := l.addr[addrKey(addr)]; t != nil {
		return t.busy, len(t.waiting)
	}
	return 0, 0
}

// DefaultHandshakesPerAddress: a PC's app or a station makes one
// handshake per connection and the hub's load test dials 16 at once from
// one address; 32 in progress lets a NAT full of PCs redial after a hub
// restart in bursts, while one address stalling handshakes ties up at most
// 32 of them. DefaultHandshakeQueue: the rest of such a burst waits its
// turn (a goroutine and a socket each, no TLS state) rather than being
// cut, up to 256, then the address's new connections are closed.
const (
	DefaultHandshakesPerAddress = 32
	DefaultHandshakeQueue       = 256
)

// tlsHandshakeRecord is the first byte of every TLS connection.
const tlsHandshakeRecord = 0x16

// handshakeTimeout bounds both the wait for a turn and the handshake
// itself (net/http gave the handshake ReadHeaderTimeout, 5 s). Tests
// lengthen it so that stalled connections stay stalled on a slow machine.
var handshakeTimeout = 5 * time.Second

// DefaultStationAuthFailures is the default of RateLimits.StationAuth: a
// station whose credential the hub forgot redials its control connection
// about every 1–30 s, far under 20 a minute; a guesser gets 20 hashes a
// minute per address.
const DefaultStationAuthFailures = 20

// newAuthLimiter is the wrong-credential limiter for n a minute (0: the
// default).
func newAuthLimiter(n int) *addrLimiter {
	return newAddrLimiter(cmp.Or(n, DefaultStationAuthFailures), limiterSize)
}

// errAuthWait is a station request refused before its credential was
// checked: its address sent too many wrong ones in the last minute.
type errAuthWait struct{ wait time.Duration }

func (e *errAuthWait) Error() string { return "too many wrong station credentials" }

// authAllowed refuses an address over its wrong-credential limit; it
// counts nothing.
func (s *Server) authAllowed(r *http.Request) error {
	lim := s.authLimiter()
	if wait := lim.wait(addrKey(r.RemoteAddr), s.now()); wait > 0 {
		return &errAuthWait{wait}
	}
	return nil
}

// authFailed counts a wrong station credential from r's address. A
// revoked station's right credential is not counted: it is no guess.
func (s *Server) authFailed(r *http.Request) {
	s.authLimiter().add(addrKey(r.RemoteAddr), s.now())
}

func (s *Server) authLimiter() *addrLimiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authLim
}

// refuseAuthWait answers a station request refused by authAllowed (429,
// Retry-After) and reports whether err was one.
func refuseAuthWait(w http.ResponseWriter, err error) bool {
	var aw *errAuthWait
	if !errors.As(err, &aw) {
		return false
	}
	retryAfter(w, aw.wait)
	refuse(w, http.StatusTooManyRequests, "too_many_tries", "Too many wrong station credentials came from your network in the last minute: "+
		"wait a minute, then try again. If this station's own credential is refused, enrol it again (adhoc-hub enrol, then adhoc-station hub join).")
	return true
}

// handshakeListener does the TLS handshakes of ln's connections itself,
// at most perAddr at once per address (more wait their turn, up to queue),
// and hands each finished *tls.Conn to Accept, so net/http (which
// handshakes lazily, with no count per address) gets only connections
// whose handshake is done.
type handshakeListener struct {
	ln             net.Listener
	cfg            *tls.Config
	perAddr, queue int
	plain          func(net.Conn) // nil: every connection is TLS
	timeout        time.Duration  // handshakeTimeout when made

	ready chan net.Conn
	done  chan struct{}
	close sync.Once
	fail  chan struct{} // closed when ln's Accept failed for good
	err   error         // why; read after fail is closed

	mu   sync.Mutex
	addr map[string]*handshakeTurns
}

// handshakeTurns is one address's handshakes in progress and the
// connections waiting for a turn, first come first served.
type handshakeTurns struct {
	busy    int
	waiting []chan struct{}
}

func newHandshakeListener(ln net.Listener, cfg *tls.Config, perAddr, queue int, plain func(net.Conn)) *handshakeListener {
	if perAddr <= 0 {
		perAddr = DefaultHandshakesPerAddress
	}
	if queue <= 0 {
		queue = DefaultHandshakeQueue
	}
	l := &handshakeListener{ln: ln, cfg: cfg, perAddr: perAddr, queue: queue, timeout: handshakeTimeout, plain: plain,
		ready: make(chan net.Conn), done: make(chan struct{}), fail: make(chan struct{}), addr: map[string]*handshakeTurns{}}
	go l.acceptLoop()
	return l
}

func (l *handshakeListener) acceptLoop() {
	var backoff time.Duration
	for {
		c, err := l.ln.Accept()
		if err != nil {
			// As net/http's Serve: a temporary error (out of file
			// descriptors) is waited out, anything else ends the listener.
			var te interface{ Temporary() bool }
			if !errors.Is(err, net.ErrClosed) && errors.As(err, &te) && te.Temporary() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(backoff):
					continue
				case <-l.done:
				}
			}
			l.err = err
			close(l.fail)
			return
		}
		backoff = 0
		key := addrKey(c.RemoteAddr().String())
		turn, ok := l.take(key)
		if !ok {
			c.Close() // the address has as many connections waiting as it may
			continue
		}
		go l.handshake(c, key, turn)
	}
}

// take gives key a turn now (a nil channel) or a place in its queue (a
// channel closed when the turn comes); false when the queue is full.
func (l *handshakeListener) take(key string) (chan struct{}, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.addr[key]
	if t == nil {
		t = &handshakeTurns{}
		l.addr[key] = t
	}
	switch {
	case t.busy < l.perAddr:
		t.busy++
		return nil, true
	case len(t.waiting) < l.queue:
		ch := make(chan struct{})
		t.waiting = append(t.waiting, ch)
		return ch, true
	}
	return nil, false
}

// release ends key's turn: the next waiting connection gets it.
func (l *handshakeListener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.addr[key]
	if len(t.waiting) > 0 {
		close(t.waiting[0]) // the turn passes on; busy stays
		t.waiting = t.waiting[1:]
		return
	}
	if t.busy--; t.busy == 0 {
		delete(l.addr, key)
	}
}

// leave takes a connection that gave up waiting out of key's queue; false
// if its turn came meanwhile (it must then release it).
func (l *handshakeListener) leave(key string, turn chan struct{}) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.addr[key]
	for i, ch := range t.waiting {
		if ch == turn {
			t.waiting = append(t.waiting[:i], t.waiting[i+1:]...)
			return true
		}
	}
	return false
}

func (l *handshakeListener) handshake(c net.Conn, key string, turn chan struct{}) {
	if turn != nil {
		t := time.NewTimer(l.timeout)
		got := false
		select {
		case <-turn:
			got = true
		case <-t.C:
		case <-l.done:
		}
		t.Stop()
		if !got {
			if !l.leave(key, turn) {
				l.release(key) // the turn came just as the wait ended: ours to give back
			}
			c.Close()
			return
		}
	}
	// An I/O deadline, as net/http sets for its handshakes: a stalled
	// client is cut, while a certificate being fetched (ACME, on the first
	// handshake for the name) is not interrupted.
	c.SetDeadline(time.Now().Add(l.timeout))
	if l.plain != nil {
		// One port for both: a TLS connection starts with a handshake
		// record (0x16); a station's plain data leg with its greeting.
		first, pc, err := hublink.PeekByte(c)
		if err != nil {
			l.release(key)
			c.Close()
			return
		}
		if c = pc; first != tlsHandshakeRecord {
			l.plain(c) // reads the greeting under the deadline set above
			l.release(key)
			return
		}
	}
	tc := tls.Server(c, l.cfg)
	err := tc.Handshake()
	l.release(key)
	if err != nil {
		tc.Close()
		return
	}
	c.SetDeadline(time.Time{}) // net/http sets its own from here
	select {
	case l.ready <- tc:
	case <-l.done:
		tc.Close()
	}
}

func (l *handshakeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.fail:
		return nil, l.err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handshakeListener) Close() error {
	l.close.Do(func() { close(l.done) })
	return l.ln.Close()
}

func (l *handshakeListener) Addr() net.Addr { return l.ln.Addr() }
