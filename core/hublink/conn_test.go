package hublink_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/coder/websocket"

	"adhocstation/core/hublink"
)

// TestDeadlinesKeepTheRelay: a read deadline that passes during a read
// interrupts it with a timeout, and the relayed stream still carries data
// afterwards, as on TCP. On the WebSocket's own net.Conn the deadline
// closes the stream (which is what killed relayed live channels).
func TestDeadlinesKeepTheRelay(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c := websocket.NetConn(r.Context(), ws, websocket.MessageBinary)
		defer c.Close()
		io.Copy(c, c)
	}))
	defer echo.Close()
	dial := func() net.Conn {
		ws, _, err := websocket.Dial(context.Background(), "ws"+echo.URL[len("http"):], nil)
		if err != nil {
			t.Fatal(err)
		}
		return websocket.NetConn(context.Background(), ws, websocket.MessageBinary)
	}
	c := hublink.Deadlines(dial())
	defer c.Close()

	read := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 8))
		read <- err
	}()
	// net/http's way to stop a blocked read: a deadline in the past.
	c.SetReadDeadline(time.Unix(1, 0))
	if err := <-read; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the interrupted read returned %v; want a timeout", err)
	}
	var ne net.Error
	if err := <-func() chan error { ch := make(chan error, 1); _, err := c.Read(nil); ch <- err; return ch }(); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("a read past the deadline returned %v; want a net.Error timeout", err)
	}
	c.SetReadDeadline(time.Time{})
	if _, err := c.Write([]byte("still here")); err != nil {
		t.Fatalf("write after the deadline: %v", err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "still here" {
		t.Fatalf("read after the deadline: %q, %v; want the echo", buf, err)
	}
	// A deadline in the future that does not pass changes nothing.
	c.SetReadDeadline(time.Now().Add(time.Minute))
	c.Write([]byte("x"))
	if _, err := io.ReadFull(c, buf[:1]); err != nil || buf[0] != 'x' {
		t.Fatalf("read with a future deadline: %v", err)
	}
	c.Close()
	if _, err := c.Read(buf); err == nil {
		t.Fatal("a read after Close succeeded")
	}
}
