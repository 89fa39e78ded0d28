package winsys

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/Microsoft/go-winio"
)

// TestPipeCallerFacts: the service names a pipe client by its process: this
// test process is in the console session, is not SYSTEM and does not run
// the installed program, so it may not be the screen helper. And a client
// refuses a pipe whose server is not SYSTEM (a squatter's).
func TestPipeCallerFacts(t *testing.T) {
	ln, err := ListenPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Under Wine a client that connects before the server waits for one
	// may never be accepted: it is dialled again until it is.
	var server net.Conn
	for server == nil {
		client, err := winio.DialPipeContext(ctx, PipeName)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		select {
		case server = <-accepted:
		case <-time.After(500 * time.Millisecond):
			client.Close()
		case <-ctx.Done():
			t.Fatal("no client was accepted within 10 s")
		}
	}
	defer server.Close()
	who, err := PipeCaller(server)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("caller %+v", who)
	if !who.Console {
		t.Error("this process is in the console session, PipeCaller says it is not")
	}
	if who.Installed {
		t.Error("this test is not the installed program, PipeCaller says it is")
	}
	if who.System {
		t.Skip("the test runs as SYSTEM: the squatter check cannot be shown")
	}
	if c, err := DialPipe(ctx); err == nil {
		c.Close()
		t.Fatal("DialPipe accepted a pipe whose server is not SYSTEM")
	}
}
