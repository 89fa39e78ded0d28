package hubsrv_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"adhocstation/core/hublink"
	"adhocstation/hub/hubsrv"
)

// testClock is the hub's clock, moved by the test.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock(h *testHub) *testClock {
	c := &testClock{now: time.Now()}
	h.srv.SetClock(c.get)
	return c
}

func (c *testClock) get() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// clientFrom is h's client dialling from another loopback address, so
// the hub sees another TCP peer.
func clientFrom(t *testing.T, h *testHub, ip string) *http.Client {
	tr := h.client.Transport.(*http.Transport).Clone()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr.DialContext = d.DialContext
	c := &http.Client{Transport: tr}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// postEnrol sends one enrolment with code and returns the status, the
// refusal's code (if any) and Retry-After.
func postEnrol(t *testing.T, c *http.Client, h *testHub, code string) (int, string, string) {
	t.Helper()
	body := `{"code":"` + code + `","name":"desk","public_key":"` + strings.Repeat("A", 43) + `="}`
	resp, err := c.Post(h.url+hublink.PathEnrol, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e hublink.ErrorResponse
	json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != http.StatusOK && e.Message == "" {
		t.Errorf("refusal %d without a sentence", resp.StatusCode)
	}
	return resp.StatusCode, e.Code, resp.Header.Get("Retry-After")
}

// TestEnrolRateLimit: ten enrolment tries a minute per address; the
// eleventh is refused (429 too_many_tries) even with a good code, another
// address is not, and the next minute the first may try again.
func TestEnrolRateLimit(t *testing.T) {
	h := startHub(t)
	clock := newTestClock(h)
	for i := range hubsrv.DefaultRateLimits.Enrol {
		if st, code, _ := postEnrol(t, h.client, h, "wrong-code"); st != http.StatusForbidden || code != "bad_code" {
			t.Fatalf("try %d: %d %s", i+1, st, code)
		}
	}
	good, err := hubsrv.NewCode(h.dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st, code, retry := postEnrol(t, h.client, h, good)
	if st != http.StatusTooManyRequests || code != "too_many_tries" || retry != "60" {
		t.Fatalf("eleventh try: %d %s Retry-After %q", st, code, retry)
	}
	// The hub's own refusal reaches hublink as a HubError with the code.
	pub := make([]byte, 32)
	if _, err := hublink.Join(context.Background(), h.client, h.url, good, "desk", pub); refusalCode(err) != "too_many_tries" {
		t.Fatalf("hublink.Join over the limit: %v", err)
	}
	// X-Forwarded-For is not believed: the TCP peer is the address.
	req, _ := http.NewRequest("POST", h.url+hublink.PathEnrol, strings.NewReader("{}"))
	req.Header.Set("X-Forwarded-For", "198.51.100.9")
	if resp, err := h.client.Do(req); err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("with X-Forwarded-For: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// Another address is counted apart.
	if st, code, _ := postEnrol(t, clientFrom(t, h, "127.0.0.2"), h, "wrong-code"); st != http.StatusForbidden {
		t.Fatalf("another address: %d %s", st, code)
	}
	clock.add(time.Minute)
	if _, err := hublink.Join(context.Background(), h.client, h.url, good, "desk", make([]byte, 32)); err != nil {
		t.Fatalf("the next minute: %v", err)
	}
}

// echoStation accepts relays on l and echoes them until l closes.
func echoStation(l *hublink.Link) {
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
}

// echoOnce writes one byte on c and reads it back.
func echoOnce(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetDeadline(time.Now().Add(20 * time.Second)) // a hang guard, not a measure
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte{'x'}); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatal(err)
	}
}

// TestRelayRateLimitCountsRefusalsOnly: a PC redialling with a valid token
// is never throttled; bad and expired tokens count, and an address over
// the limit is refused (429 too_many_tries) until the next minute.
func TestRelayRateLimitCountsRefusalsOnly(t *testing.T) {
	h := startHub(t)
	h.srv.SetRateLimits(hubsrv.RateLimits{Enrol: 10, RelayRefusals: 3, Web: 240})
	clock := newTestClock(h)
	st := h.enrol(t)
	echoStation(h.link(t, st))
	good := hublink.SignToken(st.key, hublink.Claims{Station: st.id, Session: "s1", Exp: time.Now().Add(time.Hour).Unix()})
	for i := range 10 { // a reconnect loop, well over the limit
		c, err := hublink.DialRelay(context.Background(), h.client, h.url, good)
		if err != nil {
			t.Fatalf("valid relay %d: %v", i+1, err)
		}
		echoOnce(t, c)
		c.Close()
	}
	expired := hublink.SignToken(st.key, hublink.Claims{Station: st.id, Session: "s0", Exp: time.Now().Add(-time.Hour).Unix()})
	for i, tok := range []string{"garbage", expired, good[:len(good)-4] + "AAAA"} {
		if _, err := hublink.DialRelay(context.Background(), h.client, h.url, tok); refusalCode(err) == "too_many_tries" || refusalCode(err) == "" {
			t.Fatalf("refusal %d: %v", i+1, err)
		}
	}
	for _, tok := range []string{"garbage", good} {
		if _, err := hublink.DialRelay(context.Background(), h.client, h.url, tok); refusalCode(err) != "too_many_tries" {
			t.Fatalf("over the limit: %v", err)
		}
	}
	if c, err := hublink.DialRelay(context.Background(), clientFrom(t, h, "127.0.0.2"), h.url, good); err != nil {
		t.Fatalf("another address: %v", err)
	} else {
		c.Close()
	}
	clock.add(time.Minute)
	c, err := hublink.DialRelay(context.Background(), h.client, h.url, good)
	if err != nil {
		t.Fatalf("the next minute: %v", err)
	}
	c.Close()
}

// TestWebRateLimit: every /st/ request counts; over the limit a page says
// to wait (429, Retry-After); X-Forwarded-For does not move the count to
// another address; another address is apart; the next minute is afresh.
func TestWebRateLimit(t *testing.T) {
	h := startHub(t)
	h.srv.SetRateLimits(hubsrv.RateLimits{Enrol: 10, RelayRefusals: 30, Web: 3})
	clock := newTestClock(h)
	get := func(c *http.Client, path, xff string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", h.url+path, nil)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		tr := c.Transport.(*http.Transport)
		resp, err := (&http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
	}
	for _, p := range []string{"/st/nostation/join/x", "/st/nostation", "/st/nostation/app.css"} {
		if st, _, _ := get(h.client, p, ""); st == http.StatusTooManyRequests {
			t.Fatalf("%s under the limit: 429", p)
		}
	}
	st, retry, body := get(h.client, "/st/nostation/join/x", "198.51.100.9")
	if st != http.StatusTooManyRequests || retry != "60" || !strings.Contains(body, "Wait a minute") {
		t.Fatalf("fourth request: %d Retry-After %q %s", st, retry, body)
	}
	if st, _, _ := get(clientFrom(t, h, "127.0.0.2"), "/st/nostation/join/x", ""); st != http.StatusNotFound {
		t.Fatalf("another address: %d", st)
	}
	clock.add(time.Minute)
	if st, _, _ := get(h.client, "/st/nostation/join/x", ""); st != http.StatusNotFound {
		t.Fatalf("the next minute: %d", st)
	}
}

// TestRelayIdleTimeout: a spliced relay silent for RelayIdle by the hub's
// clock is closed on both sides and counted; bytes either way keep it.
func TestRelayIdleTimeout(t *testing.T) {
	h := startHub(t)
	clock := newTestClock(h)
	st := h.enrol(t)
	l := h.link(t, st)
	stationDone := make(chan error, 1) // the station's echo ends when the hub closes its side
	go func() {
		c, err := l.Accept()
		if err != nil {
			stationDone <- err
			return
		}
		defer c.Close()
		_, err = io.Copy(c, c)
		stationDone <- err
	}()
	tok := hublink.SignToken(st.key, hublink.Claims{Station: st.id, Session: "s1", Exp: time.Now().Add(24 * time.Hour).Unix()})
	c, err := hublink.DialRelay(context.Background(), h.client, h.url, tok)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echoOnce(t, c)
	idle := hubsrv.DefaultRelayIdle
	for i, step := range []struct {
		after time.Duration
		echo  bool
	}{
		{idle - time.Minute, false}, // the sweep sees the echo's bytes
		{idle - time.Minute, true},  // silent for idle - 1 min: kept; then bytes
		{idle - time.Minute, false}, // sees them
		{idle - time.Minute, false}, // silent for idle - 1 min: kept
	} {
		clock.add(step.after)
		if n := h.srv.CutIdle(); n != 0 {
			t.Fatalf("step %d: %d relays cut", i+1, n)
		}
		if step.echo {
			echoOnce(t, c)
		}
	}
	clock.add(time.Minute) // silent for idle now
	if n := h.srv.CutIdle(); n != 1 {
		t.Fatalf("silent for %v: %d relays cut, want 1", idle, n)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a hang guard
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the app's side after the cut: %v", err)
	}
	<-stationDone // the station's side closed by the hub too, nobody else closes it
	if s := h.srv.Status(); s.IdleCut != 1 {
		t.Fatalf("status: %+v", s)
	}
}

// TestRelaysPerStation: at most N relays to one station; the next app is
// refused (429 too_many_relays) with a sentence, and a closed relay frees
// its place.
func TestRelaysPerStation(t *testing.T) {
	h := startHub(t)
	h.srv.SetRelaysPerStation(2)
	st := h.enrol(t)
	echoStation(h.link(t, st))
	tok := hublink.SignToken(st.key, hublink.Claims{Station: st.id, Session: "s1", Exp: time.Now().Add(time.Hour).Unix()})
	var open []net.Conn
	for range 2 {
		c, err := hublink.DialRelay(context.Background(), h.client, h.url, tok)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		echoOnce(t, c)
		open = append(open, c)
	}
	_, err := hublink.DialRelay(context.Background(), h.client, h.url, tok)
	var he *hublink.HubError
	if !errors.As(err, &he) || he.Code != "too_many_relays" || !strings.Contains(he.Message, "as many connections") {
		t.Fatalf("third relay to a station of 2: %v", err)
	}
	// Another station is not limited by this one's relays.
	st2 := h.enrol(t)
	echoStation(h.link(t, st2))
	tok2 := hublink.SignToken(st2.key, hublink.Claims{Station: st2.id, Session: "s2", Exp: time.Now().Add(time.Hour).Unix()})
	c2, err := hublink.DialRelay(context.Background(), h.client, h.url, tok2)
	if err != nil {
		t.Fatalf("another station: %v", err)
	}
	c2.Close()
	open[0].Close()
	// The place is freed once the hub has closed both sides: wait for it.
	for h.srv.Status().Streams > 1 {
		time.Sleep(5 * time.Millisecond)
	}
	c, err := hublink.DialRelay(context.Background(), h.client, h.url, tok)
	if err != nil {
		t.Fatalf("after one closed: %v", err)
	}
	c.Close()
}
