package hublink

import (
	"net"
	"os"
	"sync"
	"time"
)

// Deadlines wraps a relayed connection (from Link.Accept or DialRelay) so
// that a read deadline interrupts a read without closing the connection,
// as on TCP. The WebSocket's own net.Conn closes the whole connection when
// a read deadline passes during a read, and net/http does exactly that to
// stop its background read when a handler hijacks the connection (the live
// channel) or a keep-alive request ends: without this wrapper every relayed
// live channel would die at once. Write deadlines pass through (a write
// that times out leaves a TLS stream unusable either way).
func Deadlines(c net.Conn) net.Conn {
	d := &deadlineConn{Conn: c, in: make(chan chunk), free: make(chan struct{}, 1), closed: make(chan struct{}),
		wake: make(chan struct{})}
	go d.pump()
	return d
}

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

	rmu  sync.Mutex // one Read at a time
	left []byte     // unread part of the current chunk
	rerr error      // the underlying read's error, once seen

	mu       sync.Mutex
	deadline time.Time
	wake     chan struct{} // closed when the deadline changes
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
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
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
	return d.Conn.SetWriteDeadline(t)
}

func (d *deadlineConn) Close() error {
	d.once.Do(func() { close(d.closed) })
	return d.Conn.Close()
}
