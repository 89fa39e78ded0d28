package hubsrv_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"adhocstation/core/hublink"
	"adhocstation/hub/hubsrv"
)

// enrolTeam enrols a station of team teamID ("" for none), as a code of
// adhoc-hub enrol -team makes.
func (h *testHub) enrolTeam(t testing.TB, teamID string) testStation {
	t.Helper()
	code, err := hubsrv.NewTeamCode(h.dir, time.Now(), teamID)
	if err != nil {
		t.Fatal(err)
	}
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	res, err := hublink.Join(context.Background(), h.client, h.url, code, "desk "+teamID, pub)
	if err != nil {
		t.Fatal(err)
	}
	return testStation{id: res.StationID, key: key, cred: res.Credential}
}

// served is what a station tells the app about the relay it serves: who
// it is and the control message hublink.ControlOf found on its *tls.Conn.
type served struct {
	Station string                 `json:"station"`
	Found   bool                   `json:"found"`
	Control hublink.ControlMessage `json:"control"`
}

// serveAs serves l's relays as the pairing service does (its TLS on
// hublink.Deadlines of each accepted stream): it sends the app one line
// saying what it serves, then echoes until either side closes.
func serveAs(t *testing.T, l *hublink.Link, name string, cert tls.Certificate) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				tc := tls.Server(hublink.Deadlines(c), &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}})
				defer tc.Close()
				if err := tc.Handshake(); err != nil {
					return
				}
				m, ok := hublink.ControlOf(tc)
				line, _ := json.Marshal(served{Station: name, Found: ok, Control: m})
				if _, err := tc.Write(append(line, '\n')); err != nil {
					return
				}
				io.Copy(tc, tc)
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); wg.Wait() })
}

// relayConn is the app's end of a relay: the pinned TLS inside it, and
// what the station said it serves.
type relayConn struct {
	*tls.Conn
	r *bufio.Reader
}

// dialServed dials a relay for tok as the app does, accepting the
// certificates pins (the owner's and its team's), and reads the station's
// line.
func dialServed(t *testing.T, h *testHub, tok string, pins ...string) (served, *relayConn, error) {
	t.Helper()
	raw, err := hublink.DialRelay(context.Background(), h.client, h.url, tok)
	if err != nil {
		return served{}, nil, err
	}
	tc := tls.Client(hublink.Deadlines(raw), &tls.Config{
		MinVersion: tls.VersionTLS13, InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !slices.Contains(pins, pin(cs.PeerCertificates[0].Raw)) {
				return errors.New("pin mismatch")
			}
			return nil
		},
	})
	t.Cleanup(func() { tc.Close() })
	tc.SetDeadline(time.Now().Add(20 * time.Second)) // a hang guard, not a measure
	defer tc.SetDeadline(time.Time{})
	rc := &relayConn{Conn: tc, r: bufio.NewReader(tc)}
	line, err := rc.r.ReadBytes('\n')
	if err != nil {
		return served{}, nil, fmt.Errorf("the station's line: %w", err)
	}
	var s served
	if err := json.Unmarshal(line, &s); err != nil {
		t.Fatalf("station's line %q: %v", line, err)
	}
	return s, rc, nil
}

// echo checks the relay still carries bytes both ways.
func (c *relayConn) echo(t *testing.T) {
	t.Helper()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatalf("relay write: %v", err)
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(c.r, b); err != nil || string(b) != "ping" {
		t.Fatalf("relay echo: %q, %v", b, err)
	}
}

// cut checks the hub closed the relay: the app's read ends with an error
// other than the hang guard's timeout.
func (c *relayConn) cut(t *testing.T, why string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := c.r.ReadByte()
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: the relay was not cut (read: %v)", why, err)
	}
}

func takeover(l *hublink.Link, owner, session string, release bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return l.Takeover(ctx, owner, session, release)
}

// waitUntil polls cond (the hub's state after a connection closed, which
// it learns asynchronously) and fails after a hang guard.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after 20 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTakeoverRoutesRelayToTaker: station B of A's team takes over A's
// session: A's open relay of that session is cut, the PC's next relay
// (still A's token) goes to B with Owner = A in its control message, other
// sessions of A stay with A; B's release sends it back to A, and so does
// B's control connection closing.
func TestTakeoverRoutesRelayToTaker(t *testing.T) {
	h := startHub(t)
	a, b := h.enrolTeam(t, "acme"), h.enrolTeam(t, "acme")
	la, lb := h.link(t, a), h.link(t, b)
	certA, _, _ := selfSigned(t, "station A")
	certB, _, _ := selfSigned(t, "station B")
	serveAs(t, la, "A", certA)
	serveAs(t, lb, "B", certB)
	pins := []string{pin(certA.Certificate[0]), pin(certB.Certificate[0])}
	tok := hublink.SignToken(a.key, hublink.Claims{Station: a.id, Session: "41", Exp: time.Now().Add(time.Hour).Unix()})
	other := hublink.SignToken(a.key, hublink.Claims{Station: a.id, Session: "42", Exp: time.Now().Add(time.Hour).Unix()})
	dial := func(tok string) (served, *relayConn) {
		t.Helper()
		s, c, err := dialServed(t, h, tok, pins...)
		if err != nil {
			t.Fatal(err)
		}
		return s, c
	}
	ordinary := served{Station: "A", Found: true, Control: hublink.ControlMessage{Type: "accept", Session: "41"}}
	taken := served{Station: "B", Found: true, Control: hublink.ControlMessage{Type: "accept", Session: "41", Owner: a.id}}
	same := func(got, want served) bool {
		got.Control.RelayID, got.Control.Client = "", "" // the hub's own
		return got == want
	}

	s, c1 := dial(tok)
	if !same(s, ordinary) || s.Control.RelayID == "" {
		t.Fatalf("before any takeover: %+v, want %+v", s, ordinary)
	}
	if err := takeover(lb, a.id, "41", false); err != nil {
		t.Fatalf("B's takeover: %v", err)
	}
	c1.cut(t, "A's relay of the session B took over")
	if n := h.srv.Takeovers(); n != 1 {
		t.Fatalf("%d takeovers held, want 1", n)
	}
	s, c2 := dial(tok)
	if !same(s, taken) {
		t.Fatalf("after B's takeover: %+v, want %+v", s, taken)
	}
	c2.echo(t)
	if s, _ := dial(other); s.Station != "A" || s.Control.Owner != "" {
		t.Fatalf("another session of A: %+v, want it served by A", s)
	}
	// Asking again is no error and leaves the relay alone.
	if err := takeover(lb, a.id, "41", false); err != nil {
		t.Fatalf("B's takeover asked again: %v", err)
	}
	c2.echo(t)

	if err := takeover(lb, a.id, "41", true); err != nil {
		t.Fatalf("B's release: %v", err)
	}
	c2.cut(t, "B's relay after its release")
	if s, _ := dial(tok); !same(s, ordinary) {
		t.Fatalf("after B's release: %+v, want %+v", s, ordinary)
	}
	if err := takeover(lb, a.id, "41", true); err != nil {
		t.Fatalf("a release of a takeover not held: %v", err)
	}

	// B's control connection goes: the hub drops B's takeovers.
	if err := takeover(lb, a.id, "41", false); err != nil {
		t.Fatal(err)
	}
	s, c4 := dial(tok)
	if !same(s, taken) {
		t.Fatalf("after B's second takeover: %+v", s)
	}
	lb.Close()
	waitUntil(t, "offline after B's link closed", func() bool { return !h.srv.Online(b.id) })
	if n := h.srv.Takeovers(); n != 0 {
		t.Fatalf("%d takeovers held after B's control connection closed, want 0", n)
	}
	c4.cut(t, "B's relay after B's control connection closed")
	if s, _ := dial(tok); !same(s, ordinary) {
		t.Fatalf("after B went offline: %+v, want %+v", s, ordinary)
	}
}

// TestTakeoverRefusals: every refusal with its status, code and a sentence.
func TestTakeoverRefusals(t *testing.T) {
	h := startHub(t)
	a, b, b2 := h.enrolTeam(t, "acme"), h.enrolTeam(t, "acme"), h.enrolTeam(t, "acme")
	away := h.enrolTeam(t, "acme") // never connects
	gone := h.enrolTeam(t, "acme") // revoked below
	c := h.enrolTeam(t, "otherco") // another team
	d := h.enrolTeam(t, "")        // no team
	la, lb, lb2 := h.link(t, a), h.link(t, b), h.link(t, b2)
	lc, ld := h.link(t, c), h.link(t, d)
	certA, _, _ := selfSigned(t, "station A")
	certB, _, _ := selfSigned(t, "station B")
	serveAs(t, la, "A", certA)
	serveAs(t, lb, "B", certB)
	pins := []string{pin(certA.Certificate[0]), pin(certB.Certificate[0])}
	if err := h.srv.Revoke(context.Background(), gone.id); err != nil {
		t.Fatal(err)
	}
	unlinked := func(st testStation) *hublink.Link {
		return &hublink.Link{Hub: h.url, Credential: st.cred, Client: h.client}
	}

	if err := takeover(lb, a.id, "41", false); err != nil {
		t.Fatalf("B's takeover: %v", err)
	}
	cases := []struct {
		name           string
		by             *hublink.Link
		owner, session string
		status         int
		code, says     string
	}{
		{"other team", lc, a.id, "41", 403, "not_same_team", "not in this station's team"},
		{"no team", ld, a.id, "41", 403, "not_same_team", "belongs to no team"},
		{"owner of another team", lb, c.id, "1", 403, "not_same_team", "not in this station's team"},
		{"owner of no team", lb, d.id, "1", 403, "not_same_team", "not in this station's team"},
		{"unknown owner", lb, "nosuchstation", "1", 404, "unknown_station", "knows no station nosuchstation"},
		{"revoked owner", lb, gone.id, "1", 404, "unknown_station", "knows no station"},
		{"taken by another", lb2, a.id, "41", 409, "taken_by_other", "Station " + b.id + " of the team is connected to this PC"},
		{"own session", lb, b.id, "1", 400, "bad_request", "this station's own"},
		{"no owner", lb, "", "1", 400, "bad_request", "could not read"},
		{"no session", lb, a.id, "", 400, "bad_request", "could not read"},
		{"long session", lb, a.id, strings.Repeat("9", 200), 400, "bad_request", "could not read"},
		{"taker not connected", unlinked(away), a.id, "43", 503, "station_offline", "not connected to the hub"},
		{"wrong credential", &hublink.Link{Hub: h.url, Credential: b.id + ".wrong", Client: h.client}, a.id, "44", 401, "bad_credential", "does not know this station's credential"},
		{"revoked taker", unlinked(gone), a.id, "44", 403, "station_revoked", "revoked this station"},
	}
	for _, tc := range cases {
		err := takeover(tc.by, tc.owner, tc.session, false)
		var he *hublink.HubError
		if !errors.As(err, &he) || he.Status != tc.status || he.Code != tc.code || !strings.Contains(he.Message, tc.says) || !strings.HasSuffix(he.Message, ".") {
			t.Errorf("%s: %#v, want %d %s saying %q", tc.name, err, tc.status, tc.code, tc.says)
		}
	}
	// A body the hub cannot read.
	req, _ := http.NewRequest(http.MethodPost, h.url+hublink.PathTakeover, bytes.NewReader([]byte("{not json")))
	req.Header.Set("Authorization", "Bearer "+b.cred)
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var er hublink.ErrorResponse
	json.NewDecoder(resp.Body).Decode(&er)
	resp.Body.Close()
	if resp.StatusCode != 400 || er.Code != "bad_request" {
		t.Errorf("garbage body: %d %+v", resp.StatusCode, er)
	}

	// None of these changed B's takeover; B2's release of it is no error
	// and leaves it with B.
	if err := takeover(lb2, a.id, "41", true); err != nil {
		t.Fatalf("B2's release of B's takeover: %v", err)
	}
	if n := h.srv.Takeovers(); n != 1 {
		t.Fatalf("%d takeovers, want B's only", n)
	}
	tok := hublink.SignToken(a.key, hublink.Claims{Station: a.id, Session: "41", Exp: time.Now().Add(time.Hour).Unix()})
	if s, _, err := dialServed(t, h, tok, pins...); err != nil || s.Station != "B" || s.Control.Owner != a.id {
		t.Fatalf("relay after the refusals: %+v, %v; want B serving A's session", s, err)
	}
	// The owner's token is still checked as ever: an ended session is
	// refused, taken over or not.
	ended := hublink.SignToken(a.key, hublink.Claims{Station: a.id, Session: "41", Exp: time.Now().Add(-time.Second).Unix()})
	if _, _, err := dialServed(t, h, ended, pins...); refusalCode(err) != "session_ended" {
		t.Fatalf("an ended session taken over: %v, want session_ended", err)
	}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	forged := hublink.SignToken(otherKey, hublink.Claims{Station: a.id, Session: "41", Exp: time.Now().Add(time.Hour).Unix()})
	if _, _, err := dialServed(t, h, forged, pins...); refusalCode(err) != "bad_token" {
		t.Fatalf("a forged token of a session taken over: %v, want bad_token", err)
	}
}

// TestTakeoverCap: a station holds at most 64 takeovers; asking again for
// one it holds is fine at the cap, a release frees a place, and another
// station is not limited by this one's.
func TestTakeoverCap(t *testing.T) {
	h := startHub(t)
	a, b, b2 := h.enrolTeam(t, "acme"), h.enrolTeam(t, "acme"), h.enrolTeam(t, "acme")
	h.link(t, a)
	lb, lb2 := h.link(t, b), h.link(t, b2)
	for i := range hubsrv.MaxTakeoversPerTaker {
		if err := takeover(lb, a.id, fmt.Sprint(i), false); err != nil {
			t.Fatalf("takeover %d: %v", i, err)
		}
	}
	err := takeover(lb, a.id, "64", false)
	var he *hublink.HubError
	if !errors.As(err, &he) || he.Status != 429 || he.Code != "too_many_takeovers" || !strings.Contains(he.Message, "64 PCs") {
		t.Fatalf("takeover 65: %v, want too_many_takeovers", err)
	}
	if err := takeover(lb, a.id, "3", false); err != nil {
		t.Fatalf("a held takeover asked again at the cap: %v", err)
	}
	if err := takeover(lb2, a.id, "64", false); err != nil {
		t.Fatalf("another station's takeover: %v", err)
	}
	if err := takeover(lb, a.id, "3", true); err != nil {
		t.Fatal(err)
	}
	if err := takeover(lb, a.id, "65", false); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	if n := h.srv.Takeovers(); n != hubsrv.MaxTakeoversPerTaker+1 {
		t.Fatalf("%d takeovers, want %d", n, hubsrv.MaxTakeoversPerTaker+1)
	}
}

// TestTakeoverLifetime: a takeover not asked again runs out after
// TakeoverLifetime by the hub's clock; the relays go back to the owner.
func TestTakeoverLifetime(t *testing.T) {
	h := startHub(t)
	clock := newTestClock(h)
	a, b := h.enrolTeam(t, "acme"), h.enrolTeam(t, "acme")
	la, lb := h.link(t, a), h.link(t, b)
	certA, _, _ := selfSigned(t, "station A")
	certB, _, _ := selfSigned(t, "station B")
	serveAs(t, la, "A", certA)
	serveAs(t, lb, "B", certB)
	pins := []string{pin(certA.Certificate[0]), pin(certB.Certificate[0])}
	tok := hublink.SignToken(a.key, hublink.Claims{Station: a.id, Session: "41", Exp: clock.get().Add(48 * time.Hour).Unix()})
	if err := takeover(lb, a.id, "41", false); err != nil {
		t.Fatal(err)
	}
	clock.add(hubsrv.TakeoverLifetime - time.Minute)
	if s, _, err := dialServed(t, h, tok, pins...); err != nil || s.Station != "B" {
		t.Fatalf("a minute before the end: %+v, %v", s, err)
	}
	clock.add(time.Minute)
	if s, _, err := dialServed(t, h, tok, pins...); err != nil || s.Station != "A" {
		t.Fatalf("at the end: %+v, %v; want A", s, err)
	}
	if n := h.srv.Takeovers(); n != 0 {
		t.Fatalf("%d takeovers after their lifetime", n)
	}
}

// TestTakeoverRelaysCountOnTaker: the per-station relay limit counts a
// taken-over session's relays against the station serving them.
func TestTakeoverRelaysCountOnTaker(t *testing.T) {
	h := startHub(t)
	h.srv.SetRelaysPerStation(1)
	a, b := h.enrolTeam(t, "acme"), h.enrolTeam(t, "acme")
	la, lb := h.link(t, a), h.link(t, b)
	certA, _, _ := selfSigned(t, "station A")
	certB, _, _ := selfSigned(t, "station B")
	serveAs(t, la, "A", certA)
	serveAs(t, lb, "B", certB)
	pins := []string{pin(certA.Certificate[0]), pin(certB.Certificate[0])}
	exp := time.Now().Add(time.Hour).Unix()
	if err := takeover(lb, a.id, "41", false); err != nil {
		t.Fatal(err)
	}
	s, c, err := dialServed(t, h, hublink.SignToken(a.key, hublink.Claims{Station: a.id, Session: "41", Exp: exp}), pins...)
	if err != nil || s.Station != "B" {
		t.Fatalf("taken-over relay: %+v, %v", s, err)
	}
	// B's one place is taken: its own session's relay is refused...
	if _, _, err := dialServed(t, h, hublink.SignToken(b.key, hublink.Claims{Station: b.id, Session: "7", Exp: exp}), pins...); refusalCode(err) != "too_many_relays" {
		t.Fatalf("B's own relay with its place taken: %v, want too_many_relays", err)
	}
	// ...while A's place is free for its other sessions.
	if s, _, err := dialServed(t, h, hublink.SignToken(a.key, hublink.Claims{Station: a.id, Session: "42", Exp: exp}), pins...); err != nil || s.Station != "A" {
		t.Fatalf("A's other session: %+v, %v", s, err)
	}
	c.echo(t)
}

// TestTakeoverDroppedWhenTakerRevoked: revoking the taker closes its
// control connection, and with it go its takeovers.
func TestTakeoverDroppedWhenTakerRevoked(t *testing.T) {
	h := startHub(t)
	a, b := h.enrolTeam(t, "acme"), h.enrolTeam(t, "acme")
	h.link(t, a)
	lb := h.link(t, b)
	if err := takeover(lb, a.id, "41", false); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.Revoke(context.Background(), b.id); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "without takeovers after the taker's revocation", func() bool { return h.srv.Takeovers() == 0 })
}
