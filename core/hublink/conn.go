package hublink

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Deadlines wraps a relayed connection (from Link.Accept or DialRelay) so
// that a read deadline interrupts a read without closing the connection,
// as on TCP. The WebSocket's own net.Conn closes the whole connection when
// a read deadline passes during a read, and net/http does exactly that to
// stop its background read when a handler hijacks the connection (the live
// channel) or a keep-alive request ends: without this wrapper every relayed
// live channel would die at once. Write deadlines pass through (a write
// that times out leaves a TLS stream unusable either way).
//
// Writes are coalesced, as a TCP socket's buffer does: Write queues its
// bytes and returns, and one flusher sends everything queued meanwhile as
// a single WebSocket message. TLS writes each record (and yamux each frame
// header) separately, and every WebSocket message costs a frame, an outer
// TLS record and a system call at each of the relay's three ends, so
// sending them one by one is what made the relay slow
// (docs/PERFORMANCE.md). A lone write goes out at once: nothing waits for
// more to come. An error of the underlying write is returned by the next
// Write; Close sends what is queued before closing.
//
// A station's plain data leg (TCP) is wrapped too: its deadlines need
// it not, but its writes gain from the grouping as a WebSocket's do — the
// hub reads, frames and seals for the app what arrives in one go, so
// fewer and larger pieces cost it less (docs/PERFORMANCE.md; direct
// connections measured no faster with it, so they go without).
func Deadlines(c net.Conn) net.Conn {
	d := &deadlineConn{Conn: c, in: make(chan chunk), free: make(chan struct{}, 1), closed: make(chan struct{}),
		wake: make(chan struct{})}
	d.wcond.L = &d.wmu
	go d.pump()
	return d
}

// writeBuffer is how much Write queues before it waits for the flusher:
// a WebSocket message carries up to about this much.
const writeBuffer = 64 << 10

var writeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, writeBuffer+16<<10); return &b }}

type chunk struct {
	b   []byte
	err error
}

type deadlineConn struct {
	net.Conn
	in     chan chunk
	free   chan struct{} // the reader is done with the pump's buffer
	closed chan struct{}
	once   sync.Once

	rmu   sync.Mutex // one Read at a time
	left  []byte     // unread part of the current chunk
	rerr  error      // the underlying read's error, once seen
	timer *time.Timer

	mu       sync.Mutex
	deadline time.Time
	wake     chan struct{} // closed when the deadline changes

	wmu      sync.Mutex
	wcond    sync.Cond // the flusher took the queue, or stopped
	queued   *[]byte   // bytes written and not yet taken by the flusher
	flushing bool      // a flusher goroutine runs
	werr     error     // the underlying write's error, or net.ErrClosed
	closing  bool
}

// pump reads the underlying connection into one buffer, handing each read
// to Read and waiting until it is consumed.
func (d *deadlineConn) pump() {
	buf := make([]byte, 32<<10)
	for {
		n, err := d.Conn.Read(buf)
		select {
		case d.in <- chunk{buf[:n], err}:
		case <-d.closed:
			return
		}
		if err != nil {
			return
		}
		select {
		case <-d.free:
		case <-d.closed:
			return
		}
	}
}

func (d *deadlineConn) Read(p []byte) (int, error) {
	d.rmu.Lock()
	defer d.rmu.Unlock()
	for len(d.left) == 0 && d.rerr == nil {
		d.mu.Lock()
		dl, wake := d.deadline, d.wake
		d.mu.Unlock()
		var timeout <-chan time.Time
		if !dl.IsZero() {
			wait := time.Until(dl)
			if wait <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			// One timer for the connection's life, not one per read
			// (since Go 1.23 Reset leaves no stale tick in its channel).
			if d.timer == nil {
				d.timer = time.NewTimer(wait)
			} else {
				d.timer.Reset(wait)
			}
			timeout = d.timer.C
		}
		select {
		case c := <-d.in:
			d.left, d.rerr = c.b, c.err
			if len(c.b) == 0 && c.err == nil {
				d.free <- struct{}{}
			}
		case <-timeout:
			return 0, os.ErrDeadlineExceeded
		case <-wake:
		case <-d.closed:
			return 0, net.ErrClosed
		}
		if timeout != nil {
			d.timer.Stop()
		}
	}
	if len(d.left) == 0 {
		return 0, d.rerr
	}
	n := copy(p, d.left)
	d.left = d.left[n:]
	if len(d.left) == 0 && d.rerr == nil {
		d.free <- struct{}{}
	}
	return n, nil
}

// Write queues p for the flusher, waiting only while writeBuffer bytes are
// already queued.
func (d *deadlineConn) Write(p []byte) (int, error) {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	for d.werr == nil && !d.closing && d.queued != nil && len(*d.queued) >= writeBuffer {
		d.wcond.Wait()
	}
	switch {
	case d.werr != nil:
		return 0, d.werr
	case d.closing:
		return 0, net.ErrClosed
	case len(p) == 0:
		return 0, nil
	}
	if d.queued == nil {
		d.queued = writeBuffers.Get().(*[]byte)
	}
	*d.queued = append(*d.queued, p...)
	if !d.flushing {
		// Started on demand and gone when the queue is empty, so an idle
		// relay holds no goroutine and no buffer for its writes.
		d.flushing = true
		go d.flush()
	}
	return len(p), nil
}

// flush sends the queue as one message at a time until it is empty.
func (d *deadlineConn) flush() {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	for d.queued != nil && d.werr == nil {
		out := d.queued
		d.queued = nil
		d.wcond.Broadcast()
		d.wmu.Unlock()
		_, err := d.Conn.Write(*out)
		if cap(*out) <= writeBuffer+16<<10 {
			*out = (*out)[:0]
			writeBuffers.Put(out)
		}
		d.wmu.Lock()
		if err != nil && d.werr == nil {
			d.werr = err
		}
	}
	if d.queued != nil { // not sent: the connection failed
		writeBuffers.Put(d.queued)
		d.queued = nil
	}
	d.flushing = false
	d.wcond.Broadcast()
}

func (d *deadlineConn) SetReadDeadline(t time.Time) error {
	d.mu.Lock()
	d.deadline = t
	close(d.wake)
	d.wake = make(chan struct{})
	d.mu.Unlock()
	return nil
}

func (d *deadlineConn) SetDeadline(t time.Time) error {
	d.SetReadDeadline(t)
	return d.SetWriteDeadline(t)
}

// SetWriteDeadline lets what Write already took (and reported written) go
// out first, for at most closeFlush, then sets t: a deadline is about
// writes still to come. tls.Conn sets a deadline of now right after its
// close_notify; applied at once it cut the queued answer on its way, and a
// join page through the relay came back empty.
func (d *deadlineConn) SetWriteDeadline(t time.Time) error {
	d.wmu.Lock()
	if d.flushing && !t.IsZero() {
		if grace := time.Now().Add(closeFlush); t.Before(grace) {
			d.Conn.SetWriteDeadline(grace)
		}
		for d.flushing {
			d.wcond.Wait()
		}
	}
	d.wmu.Unlock()
	return d.Conn.SetWriteDeadline(t)
}

// closeFlush bounds how long Close waits for queued bytes to go out to a
// peer that does not read (tls.Conn.Close allows its alert as long).
const closeFlush = 5 * time.Second

// Close sends what Write queued (the TLS close_notify is usually among it),
// then closes the connection.
func (d *deadlineConn) Close() error {
	d.once.Do(func() { close(d.closed) })
	d.wmu.Lock()
	d.closing = true
	d.wcond.Broadcast()
	if d.flushing {
		d.Conn.SetWriteDeadline(time.Now().Add(closeFlush))
	}
	for d.flushing {
		d.wcond.Wait()
	}
	if d.werr == nil {
		d.werr = net.ErrClosed
	}
	d.wmu.Unlock()
	return d.Conn.Close()
}

// The WebSocket library writes a client's masked frames in 4 KiB pieces,
// each an outer TLS record and a system call of its own: for the app and
// the station (both dial the hub) that was most of the relay's cost. A
// corkedConn holds those pieces while one message is written, twice on a
// client: above the outer TLS (corkBody: the message then goes to TLS in
// one Write, as 16 KiB records, each costing a seal here and an open at
// the hub: 4 times fewer) and under it (corkConn: those records leave in
// one system call).

// corkSlot receives the connection a relay's own transport dials and
// the upgraded stream its WebSocket runs on.
type corkSlot struct {
	c    *corkConn
	body *corkBody
	tr   *http.Transport // the relay's own; nil: the caller's
}

// done closes what the relay's own transport keeps idle: the connection
// of a refused dial, which nobody would reuse.
func (s *corkSlot) done() {
	if s.tr != nil {
		s.tr.CloseIdleConnections()
	}
}

// corkedClient is client with a transport of its own whose dialled
// connection and upgraded stream land in the slot; client itself (and an
// empty slot) when its transport is not an *http.Transport.
func corkedClient(client *http.Client) (*http.Client, *corkSlot) {
	slot := &corkSlot{}
	tr, dial, ok := tcpDialer(client)
	if !ok {
		return client, slot
	}
	t := tr.Clone()
	slot.tr = t
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cc := &corkConn{Conn: c}
		slot.c = cc // one dial per relay: the WebSocket is never pooled
		return cc, nil
	}
	out := *client
	out.Transport = &upgradeTransport{Transport: t, slot: slot}
	return &out, slot
}

// tcpDialer is client's transport and the function it dials TCP with (its
// own, or one like net/http's default); false when the transport is not an
// *http.Transport or dials its TLS itself, so nothing can be put under it.
func tcpDialer(client *http.Client) (*http.Transport, func(ctx context.Context, network, addr string) (net.Conn, error), bool) {
	tr, ok := client.Transport.(*http.Transport)
	if client.Transport == nil {
		tr, ok = http.DefaultTransport.(*http.Transport)
	}
	if !ok || tr.DialTLSContext != nil {
		return nil, nil, false
	}
	dial := tr.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	return tr, dial, true
}

// upgradeTransport puts a corkBody over the stream a 101 answer's body
// gives (net/http's: writes go to the outer *tls.Conn).
type upgradeTransport struct {
	*http.Transport
	slot *corkSlot
}

func (u *upgradeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := u.Transport.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusSwitchingProtocols {
		if rwc, ok := resp.Body.(io.ReadWriteCloser); ok {
			b := &corkBody{ReadWriteCloser: rwc}
			u.slot.body = b
			resp.Body = b
		}
	}
	return resp, err
}

// holder holds writes while corked and hands them on in one write.
// Writes are in order: the holder's lock covers its writes, and its
// writer (TLS, or the WebSocket library) serialises its own.
type holder struct {
	mu     sync.Mutex
	corked bool
	held   *[]byte
}

var corkBuffers = sync.Pool{New: func() any { b := make([]byte, 0, writeBuffer+32<<10); return &b }}

// corkLimit bounds what a holder keeps before it writes anyway.
const corkLimit = 256 << 10

func (h *holder) write(w io.Writer, p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.corked {
		return w.Write(p)
	}
	if h.held == nil {
		h.held = corkBuffers.Get().(*[]byte)
	}
	*h.held = append(*h.held, p...)
	if len(*h.held) >= corkLimit {
		if err := h.writeHeld(w); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (h *holder) cork() {
	h.mu.Lock()
	h.corked = true
	h.mu.Unlock()
}

// uncork writes what is held: under the lock, so nothing overtakes it.
func (h *holder) uncork(w io.Writer) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.corked = false
	return h.writeHeld(w)
}

func (h *holder) writeHeld(w io.Writer) error {
	if h.held == nil {
		return nil
	}
	_, err := w.Write(*h.held)
	// An idle relay keeps no buffer (1,000 PCs through one station).
	if cap(*h.held) <= corkLimit {
		*h.held = (*h.held)[:0]
		corkBuffers.Put(h.held)
	}
	h.held = nil
	return err
}

// corkConn is the TCP connection under a relay's outer TLS. While corked,
// writes (TLS records, in order: tls.Conn serialises them) are held.
type corkConn struct {
	net.Conn
	h   holder
	pre []byte // read before the connection: the byte PeekByte took
}

func (c *corkConn) Read(p []byte) (int, error) { return readAfter(&c.pre, c.Conn, p) }

// readAfter reads what is left of *pre first, then from c.
func readAfter(pre *[]byte, c net.Conn, p []byte) (int, error) {
	if len(*pre) > 0 {
		n := copy(p, *pre)
		*pre = (*pre)[n:]
		return n, nil
	}
	return c.Read(p)
}

// PeekByte reads c's first byte and returns it with a connection that
// reads it again first: c itself when it came from a CorkListener (so
// WithCork still finds it), a wrapper otherwise.
func PeekByte(c net.Conn) (byte, net.Conn, error) {
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return 0, nil, err
	}
	if cc, ok := c.(*corkConn); ok {
		cc.pre = b[:]
		return b[0], cc, nil
	}
	return b[0], &peekedConn{Conn: c, pre: b[:]}, nil
}

type peekedConn struct {
	net.Conn
	pre []byte
}

func (c *peekedConn) Read(p []byte) (int, error) { return readAfter(&c.pre, c.Conn, p) }

func (c *corkConn) Write(p []byte) (int, error) { return c.h.write(c.Conn, p) }
func (c *corkConn) cork()                       { c.h.cork() }
func (c *corkConn) uncork() error               { return c.h.uncork(c.Conn) }

// corkBody is a relay client's upgraded stream, over the outer TLS.
// While corked, writes (the WebSocket library's pieces) are held.
type corkBody struct {
	io.ReadWriteCloser
	h holder
}

func (b *corkBody) Write(p []byte) (int, error) { return b.h.write(b.ReadWriteCloser, p) }

// corkedConn is a relay's WebSocket as a net.Conn whose every Write
// leaves in as few TLS records and system calls as its size needs.
type corkedConn struct {
	net.Conn
	cork *corkConn
	body *corkBody // nil on the hub's side
}

func (c *corkedConn) Write(p []byte) (int, error) {
	c.cork.cork()
	if c.body != nil {
		c.body.h.cork()
	}
	n, err := c.Conn.Write(p)
	if c.body != nil {
		if uerr := c.body.h.uncork(c.body.ReadWriteCloser); err == nil && uerr != nil {
			err, n = uerr, 0
		}
	}
	if uerr := c.cork.uncork(); err == nil && uerr != nil {
		return 0, uerr
	}
	return n, err
}

// CorkListener wraps ln's connections so that a WebSocket served on them
// (through TLS or not) can be corked with WithCork.
func CorkListener(ln net.Listener) net.Listener { return corkListener{ln} }

type corkListener struct{ net.Listener }

func (l corkListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &corkConn{Conn: c}, nil
}

// WithCork is nc, a WebSocket as a net.Conn, whose every Write leaves in
// one system call, when raw (the connection the WebSocket runs on: the
// hijacked *tls.Conn, or the plain one) came from a CorkListener; nc
// unchanged otherwise.
func WithCork(nc, raw net.Conn) net.Conn {
	if t, ok := raw.(interface{ NetConn() net.Conn }); ok {
		raw = t.NetConn()
	}
	if cc, ok := raw.(*corkConn); ok {
		return &corkedConn{Conn: nc, cork: cc}
	}
	return nc
}

// WSConn is ws's binary messages as a byte stream, for the relay's ends
// and the hub's splice. It is websocket.NetConn without its cost: NetConn
// reads and writes with a cancelable context, for which the library arms
// a context.AfterFunc on every call (70 % of a relayed upload's
// allocations); WSConn's context is never done, so none is armed.
// Deadlines behave as NetConn's: one that passes during a call closes the
// connection; one that passed between calls fails the next call until it
// is moved. A close frame with a normal or going-away status reads as
// io.EOF.
func WSConn(ws *websocket.Conn) net.Conn {
	ws.SetReadLimit(-1) // a stream, not messages
	return &wsConn{ws: ws}
}

type wsConn struct {
	ws     *websocket.Conn
	rmu    sync.Mutex // one Read at a time
	r      io.Reader  // the message being read
	eof    bool
	wmu    sync.Mutex // one Write at a time
	rd, wd wsDeadline
}

func (c *wsConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if err := c.rd.begin(); err != nil {
		return 0, err
	}
	defer c.rd.end()
	for {
		if c.eof {
			return 0, io.EOF
		}
		if c.r == nil {
			typ, r, err := c.ws.Reader(context.Background())
			if err != nil {
				switch websocket.CloseStatus(err) {
				case websocket.StatusNormalClosure, websocket.StatusGoingAway:
					c.eof = true
					return 0, io.EOF
				}
				return 0, err
			}
			if typ != websocket.MessageBinary {
				err := fmt.Errorf("unexpected %v message on a relayed stream", typ)
				c.ws.Close(websocket.StatusUnsupportedData, err.Error())
				return 0, err
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if err == io.EOF {
			c.r, err = nil, nil
		}
		if n > 0 || err != nil || len(p) == 0 {
			return n, err
		}
	}
}

func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.wd.begin(); err != nil {
		return 0, err
	}
	defer c.wd.end()
	if err := c.ws.Write(context.Background(), websocket.MessageBinary, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsConn) Close() error {
	c.rd.stop()
	c.wd.stop()
	return c.ws.Close(websocket.StatusNormalClosure, "")
}

func (c *wsConn) LocalAddr() net.Addr  { return wsAddr{} }
func (c *wsConn) RemoteAddr() net.Addr { return wsAddr{} }

// wsAddr: a relayed stream has no address of its own (Link says the
// app's, from the hub, where it knows it).
type wsAddr struct{}

func (wsAddr) Network() string { return "websocket" }
func (wsAddr) String() string  { return "websocket/unknown-addr" }

func (c *wsConn) SetDeadline(t time.Time) error {
	c.rd.set(t, c.ws)
	c.wd.set(t, c.ws)
	return nil
}

func (c *wsConn) SetReadDeadline(t time.Time) error  { c.rd.set(t, c.ws); return nil }
func (c *wsConn) SetWriteDeadline(t time.Time) error { c.wd.set(t, c.ws); return nil }

// wsDeadline is one direction's deadline.
type wsDeadline struct {
	mu      sync.Mutex
	timer   *time.Timer
	gen     uint64 // which set armed the timer: a stale one does nothing
	busy    bool   // a call is in progress
	expired bool
}

func (d *wsDeadline) set(t time.Time, ws *websocket.Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	d.expired = false
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if t.IsZero() {
		return
	}
	wait := time.Until(t)
	if wait <= 0 { // already passed: the next call fails, surely
		d.expired = true
		if d.busy {
			ws.CloseNow()
		}
		return
	}
	gen := d.gen
	d.timer = time.AfterFunc(wait, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.gen != gen {
			return
		}
		d.expired = true
		if d.busy {
			ws.CloseNow() // as NetConn: a call past its deadline ends the connection
		}
	})
}

func (d *wsDeadline) begin() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.expired {
		return os.ErrDeadlineExceeded
	}
	d.busy = true
	return nil
}

func (d *wsDeadline) end() {
	d.mu.Lock()
	d.busy = false
	d.mu.Unlock()
}

func (d *wsDeadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
	}
}
