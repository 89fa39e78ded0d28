package hublink

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// Join redeems an enrolment code on the hub at hubURL (https://HOST[:PORT])
// and returns the station's credential, to be kept like a password.
// client nil: NewClient(nil) (system roots, HTTPS_PROXY).
func Join(ctx context.Context, client *http.Client, hubURL, code, name string, pub ed25519.PublicKey) (EnrolResponse, error) {
	body, _ := json.Marshal(EnrolRequest{Code: code, PublicKey: pub, Name: name})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(hubURL, "/")+PathEnrol, bytes.NewReader(body))
	if err != nil {
		return EnrolResponse{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := clientOr(client).Do(req)
	if err != nil {
		return EnrolResponse{}, fmt.Errorf("the hub %s could not be reached: %w", hubURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	if resp.StatusCode != http.StatusOK {
		return EnrolResponse{}, hubError(resp.StatusCode, b)
	}
	var out EnrolResponse
	if err := json.Unmarshal(b, &out); err != nil || out.Credential == "" {
		return EnrolResponse{}, fmt.Errorf("the hub's answer to the enrolment could not be read")
	}
	return out, nil
}

// HubError is a refusal the hub answered.
type HubError struct {
	Status int
	ErrorResponse
}

func (e *HubError) Error() string { return e.Message }

func hubError(status int, body []byte) error {
	e := &HubError{Status: status}
	if json.Unmarshal(body, &e.ErrorResponse) != nil || e.Message == "" {
		e.Code, e.Message = "http_error", fmt.Sprintf("The hub answered %d.", status)
	}
	return e
}

// DialRelay is the app's side: a WebSocket to the hub's relay for token,
// as a net.Conn to run the pinned TLS in. A refusal is a *HubError.
func DialRelay(ctx context.Context, client *http.Client, hubURL, token string) (net.Conn, error) {
	return dialStream(ctx, client, hubURL+PathRelay+token, nil)
}

func dialStream(ctx context.Context, client *http.Client, url string, h http.Header) (net.Conn, error) {
	client, cork := corkedClient(clientOr(client))
	defer cork.done()
	ws, resp, err := websocket.Dial(ctx, wsURL(url), &websocket.DialOptions{HTTPClient: client, HTTPHeader: h})
	if err != nil {
		if resp != nil && resp.Body != nil {
			// coder/websocket keeps a little of the refused answer's body.
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
			return nil, hubError(resp.StatusCode, b)
		}
		return nil, err
	}
	// The conn outlives ctx, which only bounds the dial.
	nc := WSConn(ws)
	if cork.c == nil { // a transport this package could not wrap
		return nc, nil
	}
	return &corkedConn{Conn: nc, cork: cork.c, body: cork.body}, nil
}

func wsURL(u string) string {
	if rest, ok := strings.CutPrefix(u, "https://"); ok {
		return "wss://" + rest
	}
	return u
}

// Link keeps the station's control connection to the hub and hands each
// relayed app connection to Accept: it is a net.Listener, so the pairing
// service serves relayed connections like direct ones.
type Link struct {
	Hub        string       // https://HOST[:PORT]
	Credential string       // from Join
	Client     *http.Client // its TLS trusts the hub's certificate (nil: NewClient(nil): system roots, HTTPS_PROXY)
	// OnState, if set, is told each time the control connection goes up
	// (err nil) or down (why).
	OnState func(connected bool, err error)
	// OnPlainFailed, if set, is told why a plain data leg failed; the
	// relays then use the data WebSocket for a while (PlainRetry).
	OnPlainFailed func(err error)

	once      sync.Once
	closeOnce sync.Once
	conns     chan net.Conn
	closed    chan struct{}
	web       *webListener // set by HTTP; nil: web requests are not taken
	webMu     sync.Mutex

	plainMu  sync.Mutex
	plainOff time.Time // plain data legs are not tried before then
}

// errNoPlain: this link does not try plain data legs (a proxy, or a
// transport it cannot dial through).
var errNoPlain = errors.New("no plain data leg through this transport")

// PlainRetry is how long data legs stay WebSockets after a plain one
// failed: something on the way (a firewall that lets only TLS through
// port 443, a hub that lost the relay) may refuse every one.
const PlainRetry = 10 * time.Minute

func (l *Link) plainAllowed() bool {
	l.plainMu.Lock()
	defer l.plainMu.Unlock()
	return !time.Now().Before(l.plainOff)
}

func (l *Link) plainFailed() {
	l.plainMu.Lock()
	l.plainOff = time.Now().Add(PlainRetry)
	l.plainMu.Unlock()
}

// PlainLegs reports whether relays' data legs are tried plain now.
func (l *Link) PlainLegs() bool { return l.plainAllowed() }

// dialPlain opens the plain data leg the hub offered for relay relayID: TCP to the
// hub's port, the greeting, the hub's PlainOK. Not through a proxy: an
// HTTPS proxy may expect TLS after its CONNECT, so there the data
// WebSocket is used (errNoPlain).
func (l *Link) dialPlain(ctx context.Context, relayID, key string) (net.Conn, error) {
	u, err := url.Parse(l.Hub)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, errNoPlain
	}
	tr, dial, ok := tcpDialer(l.client())
	if !ok {
		return nil, errNoPlain
	}
	if tr.Proxy != nil {
		if p, err := tr.Proxy(&http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}}); err != nil || p != nil {
			return nil, errNoPlain
		}
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "443")
	}
	c, err := dial(ctx, "tcp", addr) // bounded by ctx (take's 15 s)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	var ok2 [len(PlainOK)]byte
	if _, err = io.WriteString(c, PlainHello+relayID+" "+key+"\n"); err == nil {
		_, err = io.ReadFull(c, ok2[:])
	}
	if err != nil || string(ok2[:]) != PlainOK {
		c.Close()
		return nil, fmt.Errorf("the hub did not take the plain data leg: %v", err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

func (l *Link) init() {
	l.once.Do(func() {
		l.conns = make(chan net.Conn)
		l.closed = make(chan struct{})
	})
}

// HTTP is the second listener of the link: each connection it accepts
// carries one plain-HTTP request a browser sent to https://HUB/st/ID/PATH
// (the hub's TLS ended at the hub; the request's path is PATH, and its
// X-Forwarded-For, like the connection's RemoteAddr, is the browser's
// address). Serve the join page and the download on it with an
// http.Server without TLS. Relays keep coming from Accept. Closing it
// stops only web requests; until HTTP is first called the station does
// not take them (the hub shows its "did not answer" page).
func (l *Link) HTTP() net.Listener {
	l.init()
	l.webMu.Lock()
	defer l.webMu.Unlock()
	if l.web == nil {
		l.web = &webListener{link: l, conns: make(chan net.Conn), closed: make(chan struct{})}
	}
	return l.web
}

func (l *Link) webListener() *webListener {
	l.webMu.Lock()
	defer l.webMu.Unlock()
	return l.web
}

type webListener struct {
	link   *Link
	conns  chan net.Conn
	once   sync.Once
	closed chan struct{}
}

func (w *webListener) Accept() (net.Conn, error) {
	select {
	case c := <-w.conns:
		return c, nil
	case <-w.closed:
		return nil, net.ErrClosed
	case <-w.link.closed:
		return nil, net.ErrClosed
	}
}

func (w *webListener) Close() error {
	w.once.Do(func() { close(w.closed) })
	return nil
}

func (w *webListener) Addr() net.Addr { return w.link.Addr() }

// Run keeps the control connection until ctx ends or Close, redialling
// with a backoff of 1 s doubling to 30 s.
func (l *Link) Run(ctx context.Context) {
	l.init()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-l.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	backoff := time.Second
	for ctx.Err() == nil {
		up, err := l.controlOnce(ctx)
		if l.OnState != nil {
			l.OnState(false, err)
		}
		if up {
			backoff = time.Second
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (l *Link) client() *http.Client { return clientOr(l.Client) }

func (l *Link) auth() http.Header {
	return http.Header{"Authorization": {"Bearer " + l.Credential}}
}

func (l *Link) controlOnce(ctx context.Context) (bool, error) {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	ws, resp, err := websocket.Dial(dctx, wsURL(strings.TrimRight(l.Hub, "/")+PathControl), &websocket.DialOptions{HTTPClient: l.client(), HTTPHeader: l.auth()})
	cancel()
	if err != nil {
		if resp != nil && resp.Body != nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
			return false, hubError(resp.StatusCode, b)
		}
		return false, err
	}
	defer ws.CloseNow()
	ws.SetReadLimit(4096)
	var hello ControlMessage
	if err := wsjson.Read(ctx, ws, &hello); err != nil {
		return false, err
	}
	if hello.Type != "hello" {
		return false, fmt.Errorf("the hub at %s does not speak this station's protocol", l.Hub)
	}
	if l.OnState != nil {
		l.OnState(true, nil)
	}
	for {
		var m ControlMessage
		if err := wsjson.Read(ctx, ws, &m); err != nil {
			return true, err
		}
		if m.RelayID == "" {
			continue
		}
		switch m.Type {
		case "accept":
			go l.take(ctx, m, l.conns, nil)
		case "http":
			if w := l.webListener(); w != nil {
				go l.take(ctx, m, w.conns, w.closed)
			}
		}
	}
}

// take opens the data stream the hub asked for and hands it to the
// listener whose channel is to (stopped: that listener was closed).
func (l *Link) take(ctx context.Context, m ControlMessage, to chan net.Conn, stopped chan struct{}) {
	select {
	case <-stopped: // nil for relays: never ready
		return // nobody serves these any more: the hub tells the browser
	default:
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	offer := m.DataKey
	m.DataKey = "" // single-use, and used here: Control does not pass it on
	if m.Type == "accept" && offer != "" && l.plainAllowed() {
		if c, err := l.dialPlain(dctx, m.RelayID, offer); err == nil {
			l.hand(&accepted{Conn: c, remote: clientAddr(m.Client), msg: m, plain: true}, to, stopped)
			return
		} else if !errors.Is(err, errNoPlain) {
			l.plainFailed()
			if l.OnPlainFailed != nil {
				l.OnPlainFailed(err)
			}
		}
	}
	c, err := dialStream(dctx, l.client(), strings.TrimRight(l.Hub, "/")+PathAccept+m.RelayID, l.auth())
	if err != nil {
		return // the app's relay times out and it retries
	}
	l.hand(&accepted{Conn: c, remote: clientAddr(m.Client), msg: m}, to, stopped)
}

// hand gives c to the listener whose channel is to.
func (l *Link) hand(c net.Conn, to chan net.Conn, stopped chan struct{}) {
	select {
	case to <- c:
	case <-stopped:
		c.Close()
	case <-l.closed:
		c.Close()
	}
}

// accepted is a relayed stream as Accept (or HTTP's listener) hands it
// out. Its RemoteAddr is the app's or browser's address as the hub saw it,
// so the station's per-address limits and logs see who is really there,
// not the hub; Control is the hub's message that asked for it (ControlOf),
// so the station knows whose session a relay is for.
type accepted struct {
	net.Conn
	remote net.Addr // nil: the hub sent none
	msg    ControlMessage
	plain  bool // a plain data leg: TCP, not a data WebSocket
}

func (c *accepted) RemoteAddr() net.Addr {
	switch {
	case c.remote != nil:
		return c.remote
	case c.plain:
		return wsAddr{} // the TCP peer is the hub, not whoever is relayed
	}
	return c.Conn.RemoteAddr()
}

// Control is the hub's message that asked for this stream.
func (c *accepted) Control() ControlMessage { return c.msg }

func clientAddr(s string) net.Addr {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}

// Takeover asks the hub to hand this station the relays of session
// session of station owner (a station of the same team), or with release
// to stop doing so (a release of a takeover not held is no error). The
// hub keeps it until it is released or this station's control connection
// is gone. A refusal is a *HubError (codes in docs/HUB.md "Take over").
func (l *Link) Takeover(ctx context.Context, owner, session string, release bool) error {
	body, _ := json.Marshal(TakeoverRequest{Owner: owner, Session: session, Release: release})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(l.Hub, "/")+PathTakeover, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = l.auth()
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client().Do(req)
	if err != nil {
		return fmt.Errorf("the hub %s could not be reached: %w", l.Hub, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	if resp.StatusCode != http.StatusNoContent {
		return hubError(resp.StatusCode, b)
	}
	return nil
}

// Accept returns the next relayed app connection.
func (l *Link) Accept() (net.Conn, error) {
	l.init()
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops Run and Accept.
func (l *Link) Close() error {
	l.init()
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

// Addr names the hub: relayed connections have no local port.
func (l *Link) Addr() net.Addr { return hubAddr(l.Hub) }

type hubAddr string

func (a hubAddr) Network() string { return "hub" }
func (a hubAddr) String() string  { return string(a) }

var _ net.Listener = (*Link)(nil)
