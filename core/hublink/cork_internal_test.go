package hublink

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// countWrites counts the writes that reach the TCP connection.
type countWrites struct {
	net.Conn
	mu sync.Mutex
	n  int
}

func (c *countWrites) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *countWrites) writes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// wsSink is a TLS WebSocket server that hands each received message to
// got, in order.
func wsSink(t *testing.T) (*httptest.Server, chan []byte) {
	got := make(chan []byte, 1024)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ws.SetReadLimit(-1)
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				close(got)
				return
			}
			got <- b
		}
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// countBodyWrites counts the writes that reach the outer TLS.
type countBodyWrites struct {
	io.ReadWriteCloser
	n int // written under the holder's lock
}

func (c *countBodyWrites) Write(p []byte) (int, error) {
	c.n++
	return c.ReadWriteCloser.Write(p)
}

// TestRelayWriteIsOneSyscall: a 64 KiB message a relay's client writes
// (the WebSocket library masks it in 4 KiB pieces) reaches the outer TLS
// in one write, so as 16 KiB records rather than a 4 KiB record a piece,
// and the TCP connection in one write, and intact.
func TestRelayWriteIsOneSyscall(t *testing.T) {
	srv, got := wsSink(t)
	c, err := dialStream(context.Background(), srv.Client(), srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cc, ok := c.(*corkedConn)
	if !ok {
		t.Fatalf("DialRelay's conn is a %T; want it corked", c)
	}
	counter := &countWrites{Conn: cc.cork.Conn}
	cc.cork.Conn = counter
	if cc.body == nil {
		t.Fatal("DialRelay's conn has no corked upgraded stream")
	}
	tlsWrites := &countBodyWrites{ReadWriteCloser: cc.body.ReadWriteCloser}
	cc.body.ReadWriteCloser = tlsWrites
	msg := make([]byte, 64<<10)
	rand.Read(msg)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, msg) {
		t.Fatalf("the server read %d bytes, not the message", len(b))
	}
	if n := counter.writes(); n != 1 {
		t.Fatalf("the 64 KiB message took %d writes to the TCP connection; want 1", n)
	}
	if tlsWrites.n != 1 {
		t.Fatalf("the 64 KiB message took %d writes to the outer TLS; want 1", tlsWrites.n)
	}
}

// TestDeadlinesCoalesceWrites: many small writes in a row (TLS records,
// yamux headers) leave as fewer, larger messages, in order; what is
// queued at Close still arrives.
func TestDeadlinesCoalesceWrites(t *testing.T) {
	srv, got := wsSink(t)
	raw, err := dialStream(context.Background(), srv.Client(), srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := Deadlines(raw)
	var want bytes.Buffer
	const writes = 2000
	for i := range writes {
		p := bytes.Repeat([]byte{byte(i)}, 1+i%300)
		want.Write(p)
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	messages := 0
	for b := range got {
		all.Write(b)
		messages++
	}
	if !bytes.Equal(all.Bytes(), want.Bytes()) {
		t.Fatalf("the server read %d bytes; want the %d written, in order", all.Len(), want.Len())
	}
	if messages >= writes/2 {
		t.Fatalf("%d writes left as %d messages; want them coalesced", writes, messages)
	}
	t.Logf("%d writes (%d bytes) left as %d messages", writes, want.Len(), messages)
	if _, err := c.Write([]byte("late")); err == nil {
		t.Fatal("a write after Close succeeded")
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err == nil {
		t.Fatal("a read after Close succeeded")
	}
}

type rawKey struct{}

// TestServedWriteIsOneSyscall: the hub's side. A 64 KiB message the server
// writes on a WebSocket accepted through CorkListener and WithCork reaches
// the TCP connection in one write (the library's 4 KiB buffer would make
// it two TLS records and two system calls, more for larger messages).
func TestServedWriteIsOneSyscall(t *testing.T) {
	msg := make([]byte, 64<<10)
	rand.Read(msg)
	counted := make(chan int, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.Context().Value(rawKey{}).(net.Conn)
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c := WithCork(websocket.NetConn(context.Background(), ws, websocket.MessageBinary), raw)
		defer c.Close()
		cc, ok := c.(*corkedConn)
		if !ok {
			counted <- -1
			return
		}
		counter := &countWrites{Conn: cc.cork.Conn}
		cc.cork.Conn = counter
		c.Write(msg)
		counted <- counter.writes()
		io.Copy(io.Discard, c) // until the client closes
	}))
	srv.Listener = CorkListener(srv.Listener)
	srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, rawKey{}, c) }
	srv.StartTLS()
	defer srv.Close()
	ws, _, err := websocket.Dial(context.Background(), "wss"+srv.URL[len("https"):], &websocket.DialOptions{HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(-1)
	_, b, err := ws.Read(context.Background())
	if err != nil || !bytes.Equal(b, msg) {
		t.Fatalf("the client read %d bytes (%v), not the message", len(b), err)
	}
	if n := <-counted; n != 1 {
		t.Fatalf("the 64 KiB message took %d writes to the TCP connection (-1: not corked); want 1", n)
	}
	ws.Close(websocket.StatusNormalClosure, "")
}

// TestWSConn: WSConn carries bytes both ways like websocket.NetConn, reads
// a normal close as io.EOF, refuses a write past a deadline that passed
// between calls until the deadline moves, arms no per-call timer, and is
// cut when a read deadline passes during the read.
func TestWSConn(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c := WSConn(ws)
		defer c.Close()
		buf := make([]byte, 100)
		n, _ := io.ReadFull(c, buf[:5])
		c.Write(buf[:n]) // one echo, then a normal close
	}))
	defer echo.Close()
	dial := func() net.Conn {
		ws, _, err := websocket.Dial(context.Background(), "ws"+echo.URL[len("http"):], nil)
		if err != nil {
			t.Fatal(err)
		}
		return WSConn(ws)
	}
	c := dial()
	defer c.Close()
	c.SetWriteDeadline(time.Unix(1, 0))
	if _, err := c.Write([]byte("hello")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a write past its deadline: %v; want a timeout", err)
	}
	c.SetWriteDeadline(time.Time{})
	if _, err := c.Write([]byte("hel")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("lo")); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hello" {
		t.Fatalf("read %q, %v; want the echo, then io.EOF at the normal close", got, err)
	}

	c2 := dial()
	defer c2.Close()
	// Two bytes of the five the server waits for: no echo comes.
	x := []byte("x")
	if allocs := testing.AllocsPerRun(1, func() { c2.Write(x) }); allocs > 0 {
		t.Errorf("a write allocates %v times; want no per-call timer", allocs)
	}
	c2.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Fatal("a read past its deadline returned data")
	}
	if _, err := c2.Write([]byte("12345")); err == nil {
		t.Fatal("the connection is still open after a read deadline passed during a read")
	}
}

// TestRefusedRelayLeavesNoConn: the relay's own transport does not keep
// the connection of a refused dial (the app retries refused relays every
// few seconds; each would otherwise stay open until the idle timeout, or
// forever with a transport that has none).
func TestRefusedRelayLeavesNoConn(t *testing.T) {
	closed := make(chan struct{}, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"code":"station_offline","message":"offline"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.StartTLS()
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig}}
	if _, err := dialStream(context.Background(), client, srv.URL+"/relay/x", nil); err == nil {
		t.Fatal("the refused dial succeeded")
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the refused dial's connection is still open 10 s later")
	}
}
