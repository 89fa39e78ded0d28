package hubsrv_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"adhocstation/core/hublink"
	"adhocstation/hub/hubsrv"
	"adhocstation/hub/hubtest"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// pairingStation serves the link's relays as the pairing service would
// (serveAs: a line, then an echo) and returns its certificate.
func pairingStation(t *testing.T, l *hublink.Link) tls.Certificate {
	t.Helper()
	cert, _, _ := selfSigned(t, "station")
	serveAs(t, l, "station", cert)
	return cert
}

// echoThrough sends 320 KB through a relay to the station and checks the
// echo.
func echoThrough(t *testing.T, h *testHub, st testStation, cert tls.Certificate) {
	t.Helper()
	tok := hublink.SignToken(st.key, hublink.Claims{Station: st.id, Session: "s1", Exp: time.Now().Add(time.Hour).Unix()})
	raw, err := hublink.DialRelay(context.Background(), h.client, h.url, tok)
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(raw, pinnedClient(pin(cert.Certificate[0])))
	defer tc.Close()
	br := bufio.NewReader(tc)
	if _, err := br.ReadString('\n'); err != nil { // the station's line
		t.Fatalf("pinned TLS through the hub: %v", err)
	}
	msg := bytes.Repeat([]byte("ciphertext only "), 20000)
	go tc.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(br, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo through the hub: %v", err)
	}
}

// TestPlainDataLeg: a station's relay comes to it as a plain data leg,
// the pinned TLS end to end still the only TLS on its side; with the
// offer turned off the same relay comes through the data WebSocket.
func TestPlainDataLeg(t *testing.T) {
	h := startHub(t)
	st := h.enrol(t)
	l := h.link(t, st)
	cert := pairingStation(t, l)

	echoThrough(t, h, st, cert)
	if n := h.srv.Status().PlainLegs; n != 1 {
		t.Fatalf("relays whose station end came plain: %d, want 1", n)
	}
	if !l.PlainLegs() {
		t.Fatal("the link stopped trying plain data legs after one that worked")
	}

	h.srv.SetPlainDataLegs(false)
	echoThrough(t, h, st, cert)
	if n := h.srv.Status().PlainLegs; n != 1 {
		t.Fatalf("with the offer off, relays that came plain: %d, want still 1", n)
	}
}

// TestPlainDataLegFallsBack: where a plain leg cannot pass, the relay
// comes through the data WebSocket instead, and the station stops trying
// plain legs for a while rather than failing at each relay.
func TestPlainDataLegFallsBack(t *testing.T) {
	h := startHub(t)
	st := h.enrol(t)
	var fw hubtest.Firewall
	walled := *h
	walled.client = fw.Client(h.client)
	t.Cleanup(walled.client.CloseIdleConnections)
	l := walled.link(t, st)
	cert := pairingStation(t, l)

	echoThrough(t, h, st, cert)
	echoThrough(t, h, st, cert)
	if got := fw.Cut(); got != 1 {
		t.Fatalf("the firewall cut %d plain legs, want 1 (then no more tries)", got)
	}
	if n := h.srv.Status().PlainLegs; n != 0 {
		t.Fatalf("relays whose station end came plain: %d, want 0", n)
	}
	if l.PlainLegs() {
		t.Fatal("the link still tries plain data legs after one was cut")
	}
}

// controlStation is a station's control connection read by the test
// itself, so it sees the hub's accept messages with their data keys.
func controlStation(t *testing.T, h *testHub, st testStation) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.Dial(context.Background(), "wss://"+h.addr+hublink.PathControl,
		&websocket.DialOptions{HTTPClient: h.client, HTTPHeader: http.Header{"Authorization": {"Bearer " + st.cred}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	var hello hublink.ControlMessage
	if err := wsjson.Read(context.Background(), ws, &hello); err != nil || hello.Type != "hello" {
		t.Fatalf("hello: %+v, %v", hello, err)
	}
	return ws
}

// greet opens a plain leg with line and returns the connection and what
// the hub answered before closing it (or up to PlainOK).
func greet(t *testing.T, h *testHub, line string) (net.Conn, string) {
	t.Helper()
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, line); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(hublink.PlainOK))
	n, _ := io.ReadFull(c, got)
	c.SetDeadline(time.Time{})
	return c, string(got[:n])
}

// TestPlainGreetingRefusals: the hub's port takes a plain leg only with
// the one-time key of a relay waiting for that station, once; anything
// else that is not TLS is closed unanswered and counts against its
// address as a wrong station credential does.
func TestPlainGreetingRefusals(t *testing.T) {
	h := startHub(t)
	limits := hubsrv.DefaultRateLimits
	limits.StationAuth = 3
	h.srv.SetRateLimits(limits)
	st := h.enrol(t)
	ws := controlStation(t, h, st)

	if _, got := greet(t, h, "GET / HTTP/1.1\r\nHost: hub\r\n\r\n"); got != "" { // 1
		t.Fatalf("plain HTTP on the hub's port was answered %q", got)
	}

	tok := hublink.SignToken(st.key, hublink.Claims{Station: st.id, Session: "s1", Exp: time.Now().Add(time.Hour).Unix()})
	type dialed struct {
		c   net.Conn
		err error
	}
	relay := func(ctx context.Context) (chan dialed, hublink.ControlMessage) {
		app := make(chan dialed, 1)
		go func() {
			c, err := hublink.DialRelay(ctx, h.client, h.url, tok)
			app <- dialed{c, err}
		}()
		var m hublink.ControlMessage
		if err := wsjson.Read(context.Background(), ws, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type != "accept" || m.RelayID == "" || m.DataKey == "" {
			t.Fatalf("the hub's accept: %+v, want a relay id and a data key", m)
		}
		return app, m
	}
	app, m := relay(context.Background())
	if _, got := greet(t, h, hublink.PlainHello+m.RelayID+" "+strings.Repeat("x", len(m.DataKey))+"\n"); got != "" { // 2
		t.Fatalf("a wrong data key was answered %q", got)
	}
	pc, got := greet(t, h, hublink.PlainHello+m.RelayID+" "+m.DataKey+"\n")
	if got != hublink.PlainOK {
		t.Fatalf("the right data key was answered %q, want %q", got, hublink.PlainOK)
	}
	a := <-app
	if a.err != nil {
		t.Fatalf("the app's relay: %v", a.err)
	}
	defer a.c.Close()
	go a.c.Write([]byte("sealed hello"))
	buf := make([]byte, len("sealed hello"))
	if _, err := io.ReadFull(pc, buf); err != nil || string(buf) != "sealed hello" {
		t.Fatalf("the station's plain leg read %q, %v", buf, err)
	}
	if _, got := greet(t, h, hublink.PlainHello+m.RelayID+" "+m.DataKey+"\n"); got != "" { // 3
		t.Fatalf("a data key used twice was answered %q", got)
	}

	// Three wrong greetings from this address: now even a right key is
	// refused until the minute is over.
	ctx, cancel := context.WithCancel(context.Background())
	app, m = relay(ctx)
	if _, got := greet(t, h, hublink.PlainHello+m.RelayID+" "+m.DataKey+"\n"); got != "" {
		t.Fatalf("over its limit, the address's right key was answered %q", got)
	}
	cancel()
	<-app
}
