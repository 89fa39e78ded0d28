//go:build linux

package pipe_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"adhocstation/agent/agenttest"
	"adhocstation/agent/pipe"
	"adhocstation/agent/support"
	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

// hubOn serves a hub on a Unix socket and returns it and the socket.
func hubOn(t *testing.T, who func(net.Conn) (pipe.Caller, error)) (*pipe.Hub, string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "AdHocSupport.pipe")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	hub := pipe.NewHub(who)
	joined := make(chan string, 16)
	hub.OnJoin = func(role string, _ pipe.Caller) { joined <- role }
	go hub.Serve(ln)
	t.Cleanup(hub.Close)
	hubJoined[hub] = joined
	return hub, sock
}

// hubJoined holds each test hub's joins (tests here do not run in parallel).
var hubJoined = map[*pipe.Hub]chan string{}

// rawTray connects as a tray that may chat and waits until the hub has it.
func rawTray(t *testing.T, hub *pipe.Hub, sock string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write([]byte(`{"hello":"tray","can_chat":true}` + "\n")); err != nil {
		t.Fatal(err)
	}
	coretest.Receive(t, hubJoined[hub], "the tray to join")
	return c
}

// hubFrame is what a tray reads (the hub's frame, in part).
type hubFrame struct {
	Status *support.Status   `json:"status"`
	Tell   *support.Message  `json:"tell"`
	Chat   *wire.ChatMessage `json:"chat"`
}

// frames reads c's frames onto a channel until it ends, then closes it.
func frames(c net.Conn) <-chan hubFrame {
	ch := make(chan hubFrame, 4096)
	go func() {
		defer close(ch)
		dec := json.NewDecoder(c)
		for {
			var f hubFrame
			if dec.Decode(&f) != nil {
				return
			}
			ch <- f
		}
	}()
	return ch
}

// TestHubStalledTrays: a local user opens connections that never read.
// The session's loop (ShowStatus, Tell) only queues, so it goes on at once
// instead of waiting a write deadline per stalled tray (the old hub took
// 10 s each, 47 s for two under load); the stalled trays are closed once
// their queue is full, and a tray that reads gets every message in order.
func TestHubStalledTrays(t *testing.T) {
	hub, sock := hubOn(t, agenttest.PeerCred)
	good := frames(rawTray(t, hub, sock))
	stalled := []net.Conn{rawTray(t, hub, sock), rawTray(t, hub, sock)}
	// 8 KiB messages fill a stalled tray's socket buffer, then its queue.
	// Each is sent once the reading tray has the one before, as the
	// session's loop sends a status per heartbeat.
	const n = 400
	text := strings.Repeat("x", 8<<10)
	done := make(chan error, 1)
	go func() {
		for i := range n {
			if i%2 == 0 {
				hub.ShowStatus(support.Status{State: support.TrayWaiting, TimeLeft: time.Duration(i)})
			} else {
				hub.Tell(support.Message{Title: support.AppTitle, Text: text})
			}
			f, ok := <-good
			switch {
			case !ok:
				done <- errors.New("the reading tray was closed")
				return
			case i%2 == 0 && (f.Status == nil || f.Status.TimeLeft != time.Duration(i)):
				done <- fmt.Errorf("frame %d of the reading tray is %+v; want status %d", i, f, i)
				return
			case i%2 == 1 && (f.Tell == nil || len(f.Tell.Text) != len(text)):
				done <- fmt.Errorf("frame %d of the reading tray is not the message", i)
				return
			}
		}
		done <- nil
	}()
	// The hang guard only: the loop must not wait on the stalled trays.
	if err := coretest.Receive(t, done, "ShowStatus and Tell to return with two trays not reading"); err != nil {
		t.Fatal(err)
	}
	for i, c := range stalled {
		// The hub closed it: reading drains what was written, then ends.
		_ = c.SetReadDeadline(time.Now().Add(coretest.WaitLimit))
		_, err := io.Copy(io.Discard, c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("stalled tray %d was not closed by the hub", i)
		}
	}
}

// TestHubConnectionsPerCaller: one user may hold at most 4 connections to
// the pipe (counted before their hello); the 5th is closed unanswered,
// and one that ends makes room.
func TestHubConnectionsPerCaller(t *testing.T) {
	hub, sock := hubOn(t, agenttest.PeerCred)
	var conns []net.Conn
	for range 4 {
		conns = append(conns, rawTray(t, hub, sock))
	}
	fifth, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer fifth.Close()
	_ = fifth.SetReadDeadline(time.Now().Add(coretest.WaitLimit))
	if _, err := fifth.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("the 5th connection of one user was not closed: %v", err)
	}
	conns[0].Close()
	// The hub uncounts it when its handler ends; a new tray then joins
	// (the hang guard bounds the retries).
	guard := time.Now().Add(coretest.WaitLimit)
	for {
		if time.Now().After(guard) {
			t.Fatal("a closed connection did not make room for another")
		}
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte(`{"hello":"tray"}` + "\n"))
		select {
		case <-hubJoined[hub]:
			c.Close()
			return
		case <-closedSoon(c):
			// Refused: the old connection's handler had not ended yet.
		}
	}
}

// closedSoon is closed when the hub closes c (or WaitLimit passes).
func closedSoon(c net.Conn) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		_ = c.SetReadDeadline(time.Now().Add(coretest.WaitLimit))
		_, _ = io.Copy(io.Discard, c)
		c.Close()
	}()
	return ch
}

// TestHubPipeFrameCap probes the frame cap at its edge: a chat line just
// under 32 KiB is read (and refused as too long a message, in a notice),
// one just over closes the connection unread. A cap raised to 1 MiB
// would answer the second with the notice too.
func TestHubPipeFrameCap(t *testing.T) {
	hub, sock := hubOn(t, agenttest.PeerCred)
	line := func(size int) []byte {
		pre, post := `{"chat":{"text":"`, `"}}`
		return []byte(pre + strings.Repeat("a", size-len(pre)-len(post)-1) + post + "\n")
	}
	under := rawTray(t, hub, sock)
	if _, err := under.Write(line(32 << 10)); err != nil {
		t.Fatal(err)
	}
	if f := coretest.Receive(t, frames(under), "the notice for a 32 KiB line"); f.Chat == nil || f.Chat.Code != wire.ChatTooLong {
		t.Fatalf("a 32 KiB line was answered %+v; want the too-long notice", f)
	}
	over := rawTray(t, hub, sock)
	if _, err := over.Write(line(32<<10 + 1)); err != nil {
		t.Fatal(err)
	}
	in := frames(over)
	for {
		f, ok := <-in
		if !ok {
			return // closed unanswered
		}
		if f.Chat != nil {
			t.Fatalf("a line over 32 KiB was read and answered: %+v", f.Chat)
		}
	}
}

// TestHubChatConsoleOnly: the technician's messages go only to the trays
// of the console session (a second signed-in user, or a session switched
// away from, reads nothing), ShowChat names who got each, and the tray of
// a session that becomes the console reads from then on.
func TestHubChatConsoleOnly(t *testing.T) {
	var console atomic.Uint32
	console.Store(1)
	callers := make(chan pipe.Caller, 2)
	callers <- pipe.Caller{User: `PC\anna`, Session: 1, Console: true}
	callers <- pipe.Caller{User: `PC\bob`, Session: 2}
	hub, sock := hubOn(t, func(net.Conn) (pipe.Caller, error) { return <-callers, nil })
	hub.AtConsole = func(who pipe.Caller) bool { return who.Session == console.Load() }
	anna := frames(rawTray(t, hub, sock))
	bob := frames(rawTray(t, hub, sock))
	next := func(in <-chan hubFrame, who string) hubFrame {
		t.Helper()
		return coretest.Receive(t, in, who+"'s next frame")
	}

	if got := hub.ShowChat(wire.ChatMessage{Text: "for anna"}); len(got) != 1 || got[0] != `PC\anna` {
		t.Fatalf("ShowChat says it showed the message to %q; want PC\\anna", got)
	}
	hub.ShowStatus(support.Status{State: support.TrayWaiting})
	if f := next(anna, "anna"); f.Chat == nil || f.Chat.Text != "for anna" {
		t.Fatalf("anna at the console got %+v first", f)
	}
	// Each tray's frames come in order: the status is bob's first.
	if f := next(bob, "bob"); f.Chat != nil {
		t.Fatalf("bob, not at the console, read the technician's chat: %+v", f.Chat)
	}

	console.Store(2) // a user switch: bob's session is the console now
	if got := hub.ShowChat(wire.ChatMessage{Text: "for bob"}); len(got) != 1 || got[0] != `PC\bob` {
		t.Fatalf("after the switch ShowChat says %q; want PC\\bob", got)
	}
	hub.ShowStatus(support.Status{State: support.TrayWaiting})
	if f := next(bob, "bob"); f.Chat == nil || f.Chat.Text != "for bob" {
		t.Fatalf("bob at the console got %+v", f)
	}
	if f := next(anna, "anna"); f.Status == nil {
		t.Fatalf("anna, switched away, read %+v", f)
	}
	console.Store(0) // nobody at the console (both disconnected)
	if got := hub.ShowChat(wire.ChatMessage{Text: "anyone?"}); len(got) != 0 {
		t.Fatalf("with no console session ShowChat says %q", got)
	}
}
