package hubsrv_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"adhocstation/core/hublink"
	"adhocstation/hub/hubsrv"
)

// stationCall makes one station request (method, path) with credential
// cred and returns the status, the refusal's code and Retry-After.
func stationCall(t *testing.T, c *http.Client, h *testHub, method, path, cred string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(method, h.url+path, strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+cred)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e hublink.ErrorResponse
	json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode == http.StatusTooManyRequests && !strings.Contains(e.Message, "wait a minute") {
		t.Errorf("refusal %d says %q", resp.StatusCode, e.Message)
	}
	return resp.StatusCode, e.Code, resp.Header.Get("Retry-After")
}

// TestStationAuthRateLimit: wrong station credentials count per address
// on every station path (control connection, a relay's accept, the team
// credential, a takeover); at the limit the address is refused (429 too_many_tries,
// Retry-After) even with the right credential, and the station's link
// says so; right credentials never count; another address is not held
// back; the next minute the address may try again.
func TestStationAuthRateLimit(t *testing.T) {
	h := startHub(t)
	clock := newTestClock(h)
	st := h.enrol(t)
	limit := hubsrv.DefaultRateLimits.StationAuth
	for i := range limit + 5 { // right credentials: never counted
		if status, code, _ := stationCall(t, h.client, h, "GET", hublink.PathControl, st.cred); status == http.StatusTooManyRequests {
			t.Fatalf("right credential %d refused: %s", i+1, code)
		}
	}
	paths := []struct{ method, path string }{{"GET", hublink.PathControl}, {"GET", hublink.PathAccept + "no-such-relay"}, {"POST", hublink.PathTeam}, {"POST", hublink.PathTakeover}}
	for i := range limit {
		p := paths[i%len(paths)]
		if status, code, _ := stationCall(t, h.client, h, p.method, p.path, st.id+".wrong"); status != http.StatusUnauthorized || code != "bad_credential" {
			t.Fatalf("wrong credential %d at %s: %d %s", i+1, p.path, status, code)
		}
	}
	for _, p := range paths {
		if status, code, retry := stationCall(t, h.client, h, p.method, p.path, st.cred); status != http.StatusTooManyRequests || code != "too_many_tries" || retry != "60" {
			t.Fatalf("over the limit, the right credential at %s: %d %s Retry-After %q", p.path, status, code, retry)
		}
	}
	// The station's own link hears the refusal, with its sentence.
	refused := make(chan error, 1)
	l := &hublink.Link{Hub: h.url, Credential: st.cred, Client: h.client, OnState: func(ok bool, err error) {
		if !ok && err != nil {
			select {
			case refused <- err:
			default:
			}
		}
	}}
	go l.Run(context.Background())
	err := <-refused
	l.Close()
	if refusalCode(err) != "too_many_tries" || !strings.Contains(err.Error(), "enrol it again") {
		t.Fatalf("the link over the limit: %v", err)
	}
	// Another address is counted apart: its station links.
	if status, _, _ := stationCall(t, clientFrom(t, h, "127.0.0.2"), h, "GET", hublink.PathControl, st.cred); status == http.StatusTooManyRequests {
		t.Fatal("another address was refused")
	}
	clock.add(time.Minute)
	h.link(t, st) // the next minute the station is back
}

// startLimitedHub is startHub's hub with handshakes limited to perAddr at
// once per address and queue waiting, handshakes given a minute (so
// connections the test stalls stay stalled however slow the machine).
func startLimitedHub(t *testing.T, perAddr, queue int) *testHub {
	t.Cleanup(hubsrv.SetHandshakeTimeout(time.Minute))
	ref := startHub(t) // its certificate and client; its own listener stays unused
	srv, err := hubsrv.New(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.HandshakesPerAddress, srv.HandshakeQueue = perAddr, queue
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := *ref
	h.srv, h.addr, h.url = srv, ln.Addr().String(), "https://"+ln.Addr().String()
	h.stop = serve(t, srv, ln, h.tls)
	return &h
}

// stalled opens a TCP connection to h from ip that never sends its
// ClientHello: a handshake in progress as far as the hub can tell.
func stalled(t *testing.T, h *testHub, ip string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// handshake runs a TLS client handshake with h from ip.
func handshake(t *testing.T, h *testHub, ip string) error {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", h.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	cfg := h.client.Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.ServerName, _, _ = net.SplitHostPort(h.addr)
	tc := tls.Client(c, cfg)
	tc.SetDeadline(time.Now().Add(time.Minute)) // a hang fails, never blocks the run
	return tc.Handshake()
}

// TestHandshakesPerAddress: with two handshakes in progress from one
// address and one more waiting its turn, the address's next connection is
// closed without a handshake, while another address is served; once a
// stalled handshake ends, a waiting connection gets its turn and is
// served.
func TestHandshakesPerAddress(t *testing.T) {
	h := startLimitedHub(t, 2, 1)
	s1, s2 := stalled(t, h, "127.0.0.1"), stalled(t, h, "127.0.0.1")
	stalled(t, h, "127.0.0.1") // waits for a turn: the queue is full
	waitHandshakes(t, h, 2, 1)
	if err := handshake(t, h, "127.0.0.1"); err == nil {
		t.Fatal("a handshake beyond the address's limit and queue was served")
	}
	if err := handshake(t, h, "127.0.0.2"); err != nil {
		t.Fatalf("another address: %v", err)
	}
	// s1 ends: the waiting (stalled) one takes its turn and the queue has
	// room; a real client waits there until s2 ends, then is served.
	s1.Close()
	waitHandshakes(t, h, 2, 0)
	served := make(chan error, 1)
	go func() {
		resp, err := h.client.Get(h.url + "/st/nobody/")
		if err == nil {
			resp.Body.Close()
		}
		served <- err
	}()
	s2.Close()
	if err := <-served; err != nil {
		t.Fatalf("a connection waiting its turn: %v", err)
	}
}

// waitHandshakes waits until the hub counts busy handshakes in progress
// from 127.0.0.1 and waiting connections.
func waitHandshakes(t *testing.T, h *testHub, busy, waiting int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		b, w := h.srv.HandshakesFrom("127.0.0.1")
		if b == busy && w == waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub counts %d handshakes and %d waiting from 127.0.0.1; want %d and %d", b, w, busy, waiting)
		}
		time.Sleep(time.Millisecond)
	}
}
