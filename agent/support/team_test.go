//go:build !windows

package support_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/yamux"

	"adhocstation/agent/agenttest"
	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/hublink"
	"adhocstation/core/pairing"
	"adhocstation/core/wire"
	"adhocstation/hub/hubtest"
)

// Take over (docs/TEAM.md, issue 20): the PC accepts the certificate of
// another station of its station's team only once its own station (the
// owner) listed it on the live channel's 101 answer, and only the owner's
// list counts. The station side of the header is core/pairing's; here the
// owner is a stand-in serving the header (teamStation), or, in the app's
// test, the real station behind a front with its own key that adds it.

// stationCert makes a station's self-signed certificate and its pin.
func stationCert(t testing.TB) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "team station"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, pinOfCert(c)
}

func pinOfCert(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// teamStation is a station of the team with its own key, as the PC meets
// it: it answers the live channel with 101, its header (what it would
// list as owner) and a yamux session, and every other agent call with 503
// not_owner, as a station holding the PC for a teammate does.
type teamStation struct {
	srv *httptest.Server
	pin string
	mu  sync.Mutex
	// header is the Adhoc-Team-Pins value its 101 carries; refuse makes it
	// answer the channel as a station that no longer knows the session,
	// agree the other calls with 200 (a station not keeping the contract).
	header string
	refuse bool
	agree  bool
	// channels gets one value per channel it opened; calls the path of
	// each other agent call.
	channels chan struct{}
	calls    chan string
	// owners gets the hub's Owner of each relayed connection (through a
	// hub only: newHubTeamStation).
	owners chan string
}

func newTeamStation(t testing.TB) *teamStation {
	cert, pin := stationCert(t)
	s := &teamStation{pin: pin, channels: make(chan struct{}, 64), calls: make(chan string, 64)}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the test's
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

func (s *teamStation) addr() string { return s.srv.Listener.Addr().String() }

func (s *teamStation) set(header string, refuse bool) {
	s.mu.Lock()
	s.header, s.refuse = header, refuse
	s.mu.Unlock()
}

func (s *teamStation) agreeing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.agree
}

func (s *teamStation) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	header, refuse := s.header, s.refuse
	s.mu.Unlock()
	if r.URL.Path != wire.APIPrefix+wire.ChannelPath {
		s.calls <- strings.TrimPrefix(r.URL.Path, wire.APIPrefix)
		w.Header().Set("Content-Type", "application/json")
		if s.agreeing() {
			_ = json.NewEncoder(w).Encode(wire.StatusResponse{State: "active"})
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(wire.Error{Code: wire.CodeNotOwner,
			Message: "This station is only connected to the PC for a moment for a teammate."})
		return
	}
	if refuse {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(wire.Error{Code: wire.CodeUnknownToken, Message: "unknown session"})
		return
	}
	conn, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n%s: %s\r\n\r\n",
		wire.ChannelProtocol, wire.TeamPinsHeader, header)
	if rw.Flush() != nil {
		conn.Close()
		return
	}
	cfg := yamux.DefaultConfig()
	cfg.LogOutput = io.Discard
	cfg.KeepAliveInterval, cfg.ConnectionWriteTimeout = agenttest.FastChannel.KeepAlive, agenttest.FastChannel.Timeout
	ys, err := yamux.Server(conn, cfg)
	if err != nil {
		conn.Close()
		return
	}
	s.channels <- struct{}{}
	<-ys.CloseChan()
}

// switchboard stands for the hub's routing: every new connection goes to
// the station it points at, and pointing it elsewhere drops the
// connections it carries (the owner dropping its channel to the PC when a
// teammate takes over, and the taker's when it lets go).
type switchboard struct {
	ln     net.Listener
	mu     sync.Mutex
	target string
	conns  []net.Conn
}

func newSwitchboard(t testing.TB, target string) *switchboard {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &switchboard{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); s.to("") })
	go s.serve()
	return s
}

func (s *switchboard) addr() string { return s.ln.Addr().String() }

func (s *switchboard) to(target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.target = target
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

func (s *switchboard) serve() {
	for {
		in, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		target := s.target
		s.mu.Unlock()
		out, err := net.Dial("tcp", target)
		if err != nil {
			in.Close()
			continue
		}
		s.mu.Lock()
		s.conns = append(s.conns, in, out)
		s.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); out.Close() }()
		go func() { _, _ = io.Copy(in, out); in.Close() }()
	}
}

// TestTeamPinsOnlyFromTheOwner: a second station's certificate is refused
// until the owner's 101 lists it, accepted while it is listed, refused
// again once the owner's 101 clears the list; what the taker's own 101
// lists is ignored, and the taker's refusals and not_owner answers are
// "try again later", never the session's end.
func TestTeamPinsOnlyFromTheOwner(t *testing.T) {
	owner, taker, stranger := newTeamStation(t), newTeamStation(t), newTeamStation(t)
	sw := newSwitchboard(t, owner.addr())
	c, err := support.NewClient("https://"+sw.addr(), []string{owner.pin})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := strings.Repeat("k", 43)
	var off *support.OfflineError
	open := func(at *teamStation) error {
		t.Helper()
		sw.to(at.addr())
		ys, _, err := c.OpenChannel(ctx, key, agenttest.FastChannel)
		if ys != nil {
			coretest.Receive(t, at.channels, "the station to count the channel")
			ys.Close()
		}
		return err
	}

	if err := open(taker); !errors.Is(err, support.ErrWrongStation) {
		t.Fatalf("the taker before the owner listed it: %v, want ErrWrongStation", err)
	}
	owner.set(taker.pin+", "+owner.pin, false) // the owner's own pin in its list changes nothing
	if err := open(owner); err != nil {
		t.Fatalf("the owner's channel: %v", err)
	}
	// Whoever answers not_owner (here the owner's own address, as a
	// station that has just handed the PC on might) is tried again later.
	if _, err := c.Agent(ctx, support.PathCleanup, key, ""); !errors.As(err, &off) || !errors.Is(err, support.ErrNotOwner) {
		t.Errorf("not_owner from the owner's address: %v, want OfflineError with ErrNotOwner", err)
	}
	coretest.Receive(t, owner.calls, "the owner to get the receipt")
	if got := c.TeamPins(); !slices.Equal(got, []string{taker.pin}) {
		t.Fatalf("team pins after the owner's 101: %v, want [%s]", got, taker.pin)
	}

	taker.set(stranger.pin, false)
	if err := open(taker); err != nil {
		t.Fatalf("the listed taker's channel: %v, want accepted", err)
	}
	if got := c.TeamPins(); !slices.Equal(got, []string{taker.pin}) {
		t.Fatalf("the taker's 101 changed the team pins to %v", got)
	}
	_, err = c.Agent(ctx, support.PathConfirm, key, "")
	if !errors.As(err, &off) || !errors.Is(err, support.ErrNotOwner) {
		t.Errorf("a check-in the taker answers not_owner: %v, want OfflineError with ErrNotOwner", err)
	}
	if got := coretest.Receive(t, taker.calls, "the taker to get the check-in"); got != support.PathConfirm {
		t.Errorf("the taker got %q", got)
	}
	// Only the owner's answer counts: a teammate's "done" is not the
	// owner's, and is tried again as well.
	taker.mu.Lock()
	taker.agree = true
	taker.mu.Unlock()
	if _, err := c.Agent(ctx, support.PathConfirm, key, ""); !errors.As(err, &off) || !errors.Is(err, support.ErrNotOwner) {
		t.Errorf("a teammate's 200 to a check-in: %v, want OfflineError with ErrNotOwner", err)
	}
	coretest.Receive(t, taker.calls, "the taker to get the second check-in")
	if err := open(stranger); !errors.Is(err, support.ErrWrongStation) {
		t.Errorf("a station only the taker listed: %v, want ErrWrongStation", err)
	}
	// A taker that has let the PC go may refuse the session; only the
	// owner's refusal ends it.
	taker.set("", true)
	if err := open(taker); !errors.As(err, &off) || !errors.Is(err, support.ErrNotOwner) {
		t.Errorf("the taker's unknown_token: %v, want OfflineError with ErrNotOwner (not the session's end)", err)
	}

	// A list the PC cannot read leaves the pins as they were.
	owner.set("not a pin", false)
	if err := open(owner); err != nil {
		t.Fatalf("the owner's channel with a bad list: %v", err)
	}
	if got := c.TeamPins(); !slices.Equal(got, []string{taker.pin}) {
		t.Fatalf("team pins after an unreadable list: %v, want them kept", got)
	}
	owner.set("", false)
	if err := open(owner); err != nil {
		t.Fatalf("the owner's channel without a team: %v", err)
	}
	if got := c.TeamPins(); len(got) != 0 {
		t.Fatalf("team pins after the owner's empty list: %v, want none", got)
	}
	taker.set("", false)
	if err := open(taker); !errors.Is(err, support.ErrWrongStation) {
		t.Errorf("the taker after the owner cleared the list: %v, want ErrWrongStation", err)
	}
	if _, err := c.Agent(ctx, support.PathConfirm, key, ""); !errors.Is(err, support.ErrWrongStation) {
		t.Errorf("a check-in to the taker after the list was cleared: %v, want ErrWrongStation", err)
	}

	var many []string
	for range wire.MaxTeamPins + 1 {
		_, pin := stationCert(t)
		many = append(many, pin)
	}
	if _, err := c.SetTeamPins(many); err == nil {
		t.Errorf("%d team pins accepted; at most %d", len(many), wire.MaxTeamPins)
	}
	if _, err := c.SetTeamPins(many[:wire.MaxTeamPins]); err != nil {
		t.Errorf("%d team pins: %v", wire.MaxTeamPins, err)
	}
}

// ownerFront serves the real station s under its own key (read from its
// data folder, so the PC's pins match) and adds the team header to its
// live channel's 101, as the station does once core/pairing lists its
// team (docs/TEAM.md). Everything else passes through unchanged.
type ownerFront struct {
	srv    *httptest.Server
	mu     sync.Mutex
	header string
}

func newOwnerFront(t testing.TB, dataDir string, station *pairing.Server) *ownerFront {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dataDir, pairing.CertFile), filepath.Join(dataDir, pairing.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(station.URL())
	if err != nil {
		t.Fatal(err)
	}
	f := &ownerFront{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	// The front talks to its own station on loopback; the PC's pinned
	// check is the one under test, on the front's side.
	proxy.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.StatusCode == http.StatusSwitchingProtocols {
			f.mu.Lock()
			resp.Header.Set(wire.TeamPinsHeader, f.header)
			f.mu.Unlock()
		}
		return nil
	}
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	f.srv = httptest.NewUnstartedServer(proxy)
	f.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *ownerFront) addr() string { return f.srv.Listener.Addr().String() }

func (f *ownerFront) list(header string) {
	f.mu.Lock()
	f.header = header
	f.mu.Unlock()
}

// record reads the app's session record.
func (r *rig) record() support.State {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.rec.stateDir, "session.json"))
	if err != nil {
		r.t.Fatal(err)
	}
	var st support.State
	if err := json.Unmarshal(b, &st); err != nil {
		r.t.Fatal(err)
	}
	return st
}

// waitRecord waits for the session record to satisfy ok.
func (r *rig) waitRecord(what string, ok func(support.State) bool) support.State {
	r.t.Helper()
	deadline := time.Now().Add(coretest.WaitLimit)
	for {
		st := r.record()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("waited %v for the session record to show %s: %+v", coretest.WaitLimit, what, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitLog waits for the app's log to say text.
func (r *rig) waitLog(text string) {
	r.t.Helper()
	deadline := time.Now().Add(coretest.WaitLimit)
	for !strings.Contains(r.log.String(), text) {
		if time.Now().After(deadline) {
			r.t.Fatalf("waited %v for the app's log to say %q:\n%s", coretest.WaitLimit, text, r.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTakeoverByTeamStation: the real app paired with the real station
// keeps the team pins the station's 101 lists in its record; a teammate's
// station then serves its channel (its own list ignored); a restarted app
// reaches the teammate from its record alone; the teammate's not_owner
// answer to a check-in leaves the session running and the check-in is
// sent again until the owner is back; the owner's empty list makes the
// teammate a stranger again; and the session ends cleanly at the owner.
func TestTakeoverByTeamStation(t *testing.T) {
	r, front, taker, sw := takenOverRig(t)
	stranger := newTeamStation(t)
	taker.set(stranger.pin, false)
	sw.to(taker.addr())
	coretest.Receive(t, taker.channels, "the taker to serve the PC's channel")
	r.waitStatus(support.TrayWaiting)
	r.waitLog("served by a station of the technician's team")
	if st := r.record(); !slices.Equal(st.TeamPins, []string{taker.pin}) {
		t.Fatalf("the taker's 101 changed the record's team pins to %v", st.TeamPins)
	}

	// The app is killed while the teammate holds the PC; its record says
	// the station has not yet heard that the account is ready, so the
	// next start checks in.
	r.cancel()
	if err := r.finished("context.Canceled"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	rec := r.record()
	rec.Confirmed = false
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.rec.stateDir, "session.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	r.start()
	coretest.Receive(t, taker.channels, "the restarted app's channel to the taker, from its record's pins")
	for i := range 2 {
		if got := coretest.Receive(t, taker.calls, "the check-in to reach the taker"); got != support.PathConfirm {
			t.Fatalf("the taker got %q, want the check-in", got)
		}
		if i == 0 {
			r.waitArmedAndAdvance()
		}
	}
	select {
	case err := <-r.done:
		t.Fatalf("the app ended (%v) on the taker's not_owner answer", err)
	default:
	}
	if st := r.record(); st.Confirmed || !slices.Equal(st.TeamPins, []string{taker.pin}) {
		t.Fatalf("record after not_owner: confirmed %v, team pins %v; want unconfirmed, pins kept", st.Confirmed, st.TeamPins)
	}

	// The teammate lets go; the owner is back and its team is gone.
	front.list("")
	sw.to(front.addr())
	r.waitOnline(true)
	r.waitRecord("no team pins", func(st support.State) bool { return len(st.TeamPins) == 0 })
	for !r.record().Confirmed {
		r.waitArmedAndAdvance()
	}
	sw.to(taker.addr())
	r.waitLog(support.ErrWrongStation.Error())
	r.waitStatus(support.TrayUnreachable)
	select {
	case <-taker.channels:
		t.Fatal("the PC opened a channel to a station its owner no longer lists")
	default:
	}

	sw.to(front.addr())
	r.waitOnline(true)
	if err := r.st.End(context.Background(), r.prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	r.checkCleanedUp(r.finished("nil, cleaned up at the owner"))
}

// takenOverRig is a rig whose app reaches the real station through its
// owner front and a switchboard (the hub's routing), paired and online,
// with the front listing the taker and the record keeping its pin. The
// test then hands the PC to the taker with sw.to(taker.addr()): the
// owner's channel drops, the PC redials and reaches the taker.
func takenOverRig(t *testing.T) (*rig, *ownerFront, *teamStation, *switchboard) {
	r := newRig(t, windowsPC, nil, rightCode)
	front := newOwnerFront(t, r.st.DataDir(), r.srv)
	taker := newTeamStation(t)
	front.list(taker.pin)
	sw := newSwitchboard(t, front.addr())
	program, err := wire.AppendDetails(agenttest.FakeProgram, wire.Details{StationURL: "https://" + sw.addr(), Pins: r.srv.Pins(),
		Token: r.prep.Session.Token, Technician: wire.Technician{Name: r.profile.Name, Email: r.profile.Email}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.rec.exe, program, 0o600); err != nil {
		t.Fatal(err)
	}
	r.start()
	r.waitStatus(support.TrayWaiting)
	r.waitOnline(true)
	r.waitRecord("the taker's pin", func(st support.State) bool { return slices.Equal(st.TeamPins, []string{taker.pin}) })
	return r, front, taker, sw
}

// TestTakeoverReceiptWaitsForOwner: the user ends the session while a
// teammate's station holds the PC; the end notice and the cleanup receipt
// get not_owner, the account goes at once, and the receipt is sent again
// until it reaches the owner, which audits it and ends the session.
func TestTakeoverReceiptWaitsForOwner(t *testing.T) {
	r, front, taker, sw := takenOverRig(t)
	sw.to(taker.addr())
	coretest.Receive(t, taker.channels, "the taker to serve the PC's channel")
	r.rec.end <- struct{}{}
	for _, want := range []string{support.PathEnd, support.PathCleanup} {
		if got := coretest.Receive(t, taker.calls, "the taker to get "+want); got != want {
			t.Fatalf("the taker got %q, want %q", got, want)
		}
	}
	_, _, _, accounts, _ := r.rec.snapshot()
	if len(accounts) != 0 {
		t.Errorf("accounts %v while the receipt waits for the owner; the account goes at once", accounts)
	}
	// Tried again while the taker still holds the PC (the receipt's wait
	// is on the agent's clock): a refusal would have been the last try.
	deadline := time.After(coretest.WaitLimit)
	for again := false; !again; {
		select {
		case <-r.agent.armed:
			r.agent.Advance(5 * time.Second)
		case got := <-taker.calls:
			again = got == support.PathCleanup
		case err := <-r.done:
			t.Fatalf("the app finished (%v) without sending the receipt again after not_owner", err)
		case <-deadline:
			t.Fatalf("waited %v for the receipt to be sent again", coretest.WaitLimit)
		}
	}
	sw.to(front.addr())
	r.checkCleanedUp(r.finishedAdvancing(5*time.Second, "nil, once the receipt reached the owner"))
	if log := r.log.String(); !strings.Contains(log, "could not tell the station: "+(&support.OfflineError{Err: support.ErrNotOwner}).Error()) {
		t.Errorf("the end notice to the taker is not logged as not_owner (try later):\n%s", log)
	}
	if !r.audited("cleanup receipt", "you ended it") {
		t.Error("the owner has no receipt saying the user ended the session")
	}
}

// waitArmedAndAdvance moves the agent's clock past its next heartbeat.
func (r *rig) waitArmedAndAdvance() {
	r.t.Helper()
	select {
	case <-r.agent.armed:
	case <-time.After(coretest.WaitLimit):
		r.t.Fatalf("waited %v for the app to arm a timer", coretest.WaitLimit)
	}
	r.agent.Advance(r.app.HeartbeatEvery)
}

// newHubTeamStation is a teamStation enrolled at the real hub h in team
// teamID, serving what the hub hands it through a real hublink.Link as
// the pairing service serves its relays (TLS on hublink.Deadlines of
// each). It returns the station, its link and its hub id.
func newHubTeamStation(t *testing.T, h *hubtest.Hub, teamID string) (*teamStation, *hublink.Link, string) {
	t.Helper()
	cert, pin := stationCert(t)
	s := &teamStation{pin: pin, channels: make(chan struct{}, 64), calls: make(chan string, 64), owners: make(chan string, 64)}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	res, err := hublink.Join(context.Background(), h.Client, h.URL, h.TeamCode(teamID), "desk B", pub)
	if err != nil {
		t.Fatal(err)
	}
	up := make(chan bool, 16)
	link := &hublink.Link{Hub: h.URL, Credential: res.Credential, Client: h.Client,
		OnState: func(connected bool, _ error) {
			select {
			case up <- connected:
			default:
			}
		}}
	ctx, cancel := context.WithCancel(context.Background())
	go link.Run(ctx)
	for !coretest.Receive(t, up, "the taker's link to the hub to be up") {
	}
	srv := &http.Server{Handler: http.HandlerFunc(s.serve), ErrorLog: log.New(io.Discard, "", 0),
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}},
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if m, ok := hublink.ControlOf(c); ok {
				select {
				case s.owners <- m.Owner:
				default:
				}
			}
			return ctx
		}}
	go func() { _ = srv.ServeTLS(deadlineListener{link}, "", "") }()
	t.Cleanup(func() { srv.Close(); cancel(); link.Close() })
	return s, link, res.StationID
}

// deadlineListener hands on each relay with deadlines, as the pairing
// service does (http.Server sets them).
type deadlineListener struct{ net.Listener }

func (l deadlineListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return hublink.Deadlines(c), nil
}

// TestHubTakeoverByTeamStation: through the real hub, a station of the
// owner's team registers a take over; the hub cuts the owner's relay and
// hands the PC's next one to the taker (Owner set), which the PC refuses
// while it does not know the taker's pin. With the pin in its record (as
// the owner's 101 puts it there; a stand-in until core/pairing sends its
// team's pins) the restarted app's channel is served by the taker, whose
// not_owner answers to the check-in leave the session running; once the
// taker releases, the PC is back at its own station, whose 101 (no team)
// clears the pins, and the session ends there cleanly.
func TestHubTakeoverByTeamStation(t *testing.T) {
	hr := newHubRigTeam(t, nil, "team-1")
	hr.start()
	hr.waitStatus(support.TrayWaiting)
	hr.waitOnline(true)
	taker, link, _ := newHubTeamStation(t, hr.hub, "team-1")
	_, strangerPin := stationCert(t)
	taker.set(strangerPin, false)
	tok, err := hublink.ReadToken(hr.record().RelayToken)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := link.Takeover(ctx, tok.Station, tok.Session, false); err != nil {
		t.Fatalf("take over at the hub: %v", err)
	}
	hr.waitEvent(core.EventComputerOffline)
	hr.waitLog("live channel: " + support.ErrWrongStation.Error())
	if owner := coretest.Receive(t, taker.owners, "the hub to hand the PC's relay to the taker"); owner != tok.Station {
		t.Fatalf("the relay's Owner is %q, want the owner %s", owner, tok.Station)
	}
	select {
	case <-taker.channels:
		t.Fatal("the PC opened its channel to a station its owner never listed")
	default:
	}

	hr.rig.cancel()
	if err := hr.finished("context.Canceled"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	rec := hr.record()
	rec.TeamPins, rec.Confirmed = []string{taker.pin}, false
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hr.rec.stateDir, "session.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	hr.start()
	coretest.Receive(t, taker.channels, "the taker to serve the restarted app's channel through the hub")
	for i := range 2 {
		if got := coretest.Receive(t, taker.calls, "the check-in to reach the taker"); got != support.PathConfirm {
			t.Fatalf("the taker got %q, want the check-in", got)
		}
		if i == 0 {
			hr.waitArmedAndAdvance()
		}
	}
	select {
	case err := <-hr.done:
		t.Fatalf("the app ended (%v) on the taker's not_owner answer", err)
	default:
	}
	if st := hr.record(); !slices.Equal(st.TeamPins, []string{taker.pin}) {
		t.Fatalf("team pins %v after the taker's 101; want its own list ignored", st.TeamPins)
	}

	if err := link.Takeover(ctx, tok.Station, tok.Session, true); err != nil {
		t.Fatalf("release at the hub: %v", err)
	}
	hr.waitOnline(true)
	hr.waitRecord("no team pins after the owner's 101", func(st support.State) bool { return len(st.TeamPins) == 0 })
	for !hr.record().Confirmed {
		hr.waitArmedAndAdvance()
	}
	if err := hr.st.End(ctx, hr.prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	hr.checkCleanedUp(hr.finished("nil, cleaned up at the owner after the take over"))
}
