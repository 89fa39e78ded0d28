package pairing

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/nats-io/nats.go/jetstream"

	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/hublink"
	"adhocstation/core/team"
	"adhocstation/core/wire"
	"adhocstation/hub/hubsrv"
	"adhocstation/hub/hubtest"
)

// joinNamedStation is joinTeamStation with the station's name for the team.
func joinNamedStation(t *testing.T, h *hubtest.Hub, clock *coretest.Clock, name string) *teamStation {
	t.Helper()
	ts := &teamStation{states: make(chan TeamState, 256), lists: make(chan []TeamSession, 256), hub: make(chan HubState, 256)}
	ts.st = coretest.OpenWith(t, t.TempDir(), clock, nil)
	ts.env = startEnv(t, ts.st, clock, Options{HubClient: h.Client, TeamLeaseTTL: 2 * time.Second, StationName: name,
		OnTeamState: func(s TeamState) { ts.states <- s },
		OnTeamList:  func(l []TeamSession) { ts.lists <- l },
	})
	cfg, err := ts.st.JoinHub(t.Context(), h.Client, h.URL, h.TeamCode("acme"))
	if err != nil {
		t.Fatal(err)
	}
	ts.id = cfg.StationID
	return ts
}

// pairedAt prepares and pairs a session at ts directly (as a PC on its
// network) and returns it with the PC's agent key.
func pairedAt(t *testing.T, ts *teamStation, name, email string) (core.Session, string) {
	t.Helper()
	prep, err := prepareAs(ts.st, t.Context(), name, email)
	if err != nil {
		t.Fatal(err)
	}
	r := ts.env.post("/api/v1/pair", pairBody(prep.Session.Token, prep.Code))
	if r.status != http.StatusOK {
		t.Fatalf("pair: %d %s", r.status, r.body)
	}
	var got wire.PairResponse
	if err := json.Unmarshal(r.body, &got); err != nil || got.AgentKey == "" {
		t.Fatalf("pair answer %s: %v", r.body, err)
	}
	s, err := ts.st.Session(t.Context(), prep.Session.ID)
	if err != nil || s.State != core.StateActive {
		t.Fatalf("after pairing: %v %v", s.State, err)
	}
	return s, got.AgentKey
}

// openChannel upgrades a pinned TLS connection to the station's live
// channel as the PC's app does, and returns the 101 answer's header with
// the yamux session.
func openChannel(t *testing.T, e *env, agentKey string) (http.Header, *yamux.Session) {
	t.Helper()
	u, err := url.Parse(e.srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	pins := e.srv.Pins()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: coretest.WaitLimit}, "tcp", u.Host, &tls.Config{
		MinVersion: tls.VersionTLS13, NextProtos: []string{"http/1.1"},
		InsecureSkipVerify: true, // replaced by the pin check, as the app does
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !slices.Contains(pins, Pin(cs.PeerCertificates[0])) {
				return errors.New("not the station's pin")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "https://"+u.Host+wire.APIPrefix+wire.ChannelPath, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", wire.ChannelProtocol)
	req.Header.Set("Authorization", "Bearer "+agentKey)
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("the live channel: %d %s", resp.StatusCode, b)
	}
	cfg := yamux.DefaultConfig()
	cfg.LogOutput = io.Discard
	ys, err := yamux.Client(bufferedConn{Conn: conn, r: br}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ys.Close() })
	return resp.Header, ys
}

// waitTookGone watches the team's bucket (through station ts's team
// connection) until key is deleted: the owner deletes a notice only after
// it acted on it.
func waitTookGone(t *testing.T, ts *teamStation, key string) {
	t.Helper()
	ts.env.srv.hubMu.Lock()
	tc := ts.env.srv.teamClient
	ts.env.srv.hubMu.Unlock()
	js, err := jetstream.New(tc.NATS())
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(t.Context(), team.Bucket("acme"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := kv.Watch(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	seen := false
	failsafe := time.After(coretest.WaitLimit)
	for {
		select {
		case e := <-w.Updates():
			switch {
			case e == nil && !seen:
				t.Fatalf("%s was never written", key)
			case e == nil:
			case e.Operation() == jetstream.KeyValuePut:
				seen = true
			default:
				return // deleted by the owner
			}
		case <-failsafe:
			t.Fatalf("%s is still in the bucket", key)
		}
	}
}

func teamClientOf(t *testing.T, ts *teamStation) *team.Client {
	t.Helper()
	ts.env.srv.hubMu.Lock()
	defer ts.env.srv.hubMu.Unlock()
	if ts.env.srv.teamClient == nil {
		t.Fatal("no team client")
	}
	return ts.env.srv.teamClient
}

// TestTakeoverAtOwner: two stations of a team, named. A's live channel to
// its PC says B's pin (never A's own); B's list names A. B announces that
// it took over A's PC: A's audit says so, A's live channel to the PC is
// closed, and the notice is gone. With A stopped, B announces again; A,
// started again on the same SQLite, records it when it connects.
func TestTakeoverAtOwner(t *testing.T) {
	h, clock := teamRig(t)
	a := joinNamedStation(t, h, clock, "Desk A")
	b := joinNamedStation(t, h, clock, "Desk B")
	both := func(s TeamState) bool { return s.Team == "acme" && s.Connected && s.Online == 2 }
	waitFor(t, a.states, "A sees B online", both)
	waitFor(t, b.states, "B sees A online", both)

	sess, agentKey := pairedAt(t, a, "Anna Tech", "anna@example.org")
	key := strconv.FormatInt(sess.ID, 10)
	l := waitFor(t, b.lists, "A's session on B, named", func(l []TeamSession) bool {
		return len(l) == 1 && l[0].Session == key && l[0].StationName == "Desk A" && l[0].Computer == coretest.WindowsPC.Hostname
	})
	if l[0].Station != a.id {
		t.Fatalf("B's line: %+v, want A's id %s too", l[0], a.id)
	}

	hdr, ys := openChannel(t, a.env, agentKey)
	pins := strings.Split(hdr.Get(wire.TeamPinsHeader), ",")
	bPin := b.env.srv.Pins()[0]
	if !slices.Contains(pins, bPin) {
		t.Fatalf("A's 101 lists %q, want B's pin %s", pins, bPin)
	}
	for _, p := range a.env.srv.Pins() {
		if slices.Contains(pins, p) {
			t.Fatalf("A's 101 lists its own pin %s", p)
		}
	}
	if _, err := ys.Ping(); err != nil {
		t.Fatalf("the channel does not answer: %v", err)
	}
	// The Support Session app's own code keeps B's pin from A's answer.
	pc, err := support.NewClient(a.env.srv.URL(), a.env.srv.Pins())
	if err != nil {
		t.Fatal(err)
	}
	pcYS, _, err := pc.OpenChannel(t.Context(), agentKey, support.ChannelTiming{Timeout: coretest.WaitLimit})
	if err != nil || pcYS == nil {
		t.Fatalf("the app's channel: %v", err)
	}
	defer pcYS.Close()
	if got := pc.TeamPins(); !slices.Equal(got, []string{bPin}) {
		t.Fatalf("the app accepts team pins %q, want B's %s", got, bPin)
	}

	took := time.Now()
	if err := teamClientOf(t, b).AnnounceTakeover(t.Context(), a.id, key, "Bea Tech", "WHATEVER-B-SAYS"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ys.CloseChan():
	case <-time.After(coretest.WaitLimit): // failsafe
		t.Fatal("A kept its live channel to the PC B took over")
	}
	t.Logf("A closed its channel %v after B's announcement (notice, A's watch, A's audit, the close)", time.Since(took))
	select {
	case <-pcYS.CloseChan():
	case <-time.After(coretest.WaitLimit): // failsafe
		t.Fatal("A kept the app's channel B took over")
	}
	want := "station " + b.id + " (Desk B), technician Bea Tech, connected to the PC " + coretest.WindowsPC.Hostname + " of session " + key + " (prepared by Anna Tech)"
	auditHas(t, a.st, "team takeover", want)
	tookKey := "took." + a.id + "." + key + "." + b.id
	waitTookGone(t, b, tookKey)

	// A offline: the notice waits for it.
	a.env.srv.Close()
	// A kept B's name and pin (its PCs are told B's pin at A's next start
	// even while B is offline).
	if m, ok, err := a.st.TeamMembership(t.Context()); err != nil || !ok || m.Members[b.id] != (core.TeamPeer{Name: "Desk B", Pin: bPin}) {
		t.Fatalf("A's stored team members: %+v %v %v", m.Members, ok, err)
	}
	waitFor(t, b.lists, "A offline on B", func(l []TeamSession) bool { return len(l) == 1 && !l[0].StationOnline })
	if err := teamClientOf(t, b).AnnounceTakeover(t.Context(), a.id, key, "Carl Tech", "PC"); err != nil {
		t.Fatal(err)
	}
	a.states = make(chan TeamState, 256)
	a.env = startEnv(t, a.st, clock, Options{HubClient: h.Client, TeamLeaseTTL: 2 * time.Second, StationName: "Desk A",
		OnTeamState: func(s TeamState) { a.states <- s }})
	waitTookGone(t, b, tookKey)
	auditHas(t, a.st, "team takeover", "station "+b.id+" (Desk B), technician Carl Tech, connected")

	// The same notice handed over again (the watch started over before
	// the delete) is recorded once.
	waitFor(t, a.states, "A in its team again", func(s TeamState) bool { return s.Connected }) // its client set
	n := team.TakeoverNotice{Owner: a.id, Session: key, Taker: b.id, Technician: "Dora Tech", At: time.Now().UTC()}
	tc := teamClientOf(t, a)
	a.env.srv.tookOver(t.Context(), tc, n)
	a.env.srv.tookOver(t.Context(), tc, n)
	rows, err := a.st.Audit(t.Context(), core.AuditFilter{Search: "Dora Tech"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("the same notice twice: %d audit rows (%v), want 1", len(rows), err)
	}
}

// TestNoTeamNoPins: a station in no team lists no team pins on its live
// channel's answer (the PC then forgets any it had).
func TestNoTeamNoPins(t *testing.T) {
	e := newEnv(t)
	_, prep := coretest.MustPrepare(t, e.st, "Ana", "ana@example.com")
	paired, err := e.st.Pair(t.Context(), core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "127.0.0.1:1", Facts: coretest.WindowsPC})
	if err != nil {
		t.Fatal(err)
	}
	hdr, _ := openChannel(t, e, paired.AgentKey)
	if v, ok := hdr[http.CanonicalHeaderKey(wire.TeamPinsHeader)]; ok {
		t.Fatalf("a station in no team sent %s: %q", wire.TeamPinsHeader, v)
	}
}

// TestTeamPinsFromStoredPeers: before its team client runs, a station lists
// the stored teammates' pins: at most 16, never a malformed one (it would
// break the header), never its own; a revoked station lists none.
func TestTeamPinsFromStoredPeers(t *testing.T) {
	e := newEnv(t)
	own := e.srv.Pins()[0]
	peers := map[string]core.TeamPeer{
		"self-pin": {Name: "Same key", Pin: own},
		"bad":      {Name: "Bad", Pin: "a,b\r\nX-Injected: 1"},
	}
	for i := range 20 {
		peers["st"+strconv.Itoa(i)] = core.TeamPeer{Pin: pinFor(i)}
	}
	// A run of a hub link that never dials: only its stored peers count
	// here (Close stops it as a real one).
	e.srv.hubMu.Lock()
	e.srv.hub = &hubRun{peers: peers, cancel: func() {}, link: &hublink.Link{}, srv: &http.Server{}, web: &http.Server{}}
	e.srv.hubMu.Unlock()
	_, prep := coretest.MustPrepare(t, e.st, "Ana", "ana@example.com")
	paired, err := e.st.Pair(t.Context(), core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "127.0.0.1:1", Facts: coretest.WindowsPC})
	if err != nil {
		t.Fatal(err)
	}
	hdr, ys := openChannel(t, e, paired.AgentKey)
	pins := strings.Split(hdr.Get(wire.TeamPinsHeader), ",")
	if len(pins) != wire.MaxTeamPins || hdr.Get("X-Injected") != "" || slices.Contains(pins, own) {
		t.Fatalf("the 101 lists %d pins %q (injected %q)", len(pins), pins, hdr.Get("X-Injected"))
	}
	for _, p := range pins {
		if !team.ValidPin(p) {
			t.Fatalf("a listed pin is not one: %q", p)
		}
	}
	ys.Close()

	e.srv.hubMu.Lock()
	e.srv.teamState.Revoked = true
	e.srv.hubMu.Unlock()
	hdr, _ = openChannel(t, e, paired.AgentKey)
	if v := hdr.Get(wire.TeamPinsHeader); v != "" {
		t.Fatalf("a revoked station lists team pins: %q", v)
	}
}

func pinFor(i int) string {
	b := make([]byte, 32)
	b[0] = byte(i + 1)
	return base64.StdEncoding.EncodeToString(b)
}

// TestJoiningStationReopensIdleChannels: a PC learns its team's pins when
// its channel opens, so when a station joins the team later, the owner
// closes its idle channels (the PC redials at once) and the next answer
// lists the newcomer's pin; a channel carrying a stream stays open.
func TestJoiningStationReopensIdleChannels(t *testing.T) {
	h, clock := teamRig(t)
	a := joinNamedStation(t, h, clock, "Desk A")
	waitFor(t, a.states, "A in its team", func(s TeamState) bool { return s.Team == "acme" && s.Connected })
	_, idleKey := pairedAt(t, a, "Anna Tech", "anna@example.org")
	_, busyKey := pairedAt(t, a, "Ben Tech", "ben@example.org")

	pc, err := support.NewClient(a.env.srv.URL(), a.env.srv.Pins())
	if err != nil {
		t.Fatal(err)
	}
	idle, _, err := pc.OpenChannel(t.Context(), idleKey, support.ChannelTiming{Timeout: coretest.WaitLimit})
	if err != nil || idle == nil {
		t.Fatalf("the app's channel: %v", err)
	}
	defer idle.Close()
	if got := pc.TeamPins(); len(got) != 0 {
		t.Fatalf("A alone in its team lists pins %q", got)
	}
	// The second PC's channel carries a stream (a technician connected).
	_, busy := openChannel(t, a.env, busyKey)
	defer busy.Close()
	stream, err := busy.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()

	b := joinNamedStation(t, h, clock, "Desk B")
	bPin := b.env.srv.Pins()[0]
	select {
	case <-idle.CloseChan():
	case <-time.After(coretest.WaitLimit): // failsafe
		t.Fatal("A kept the idle channel open after B joined: its PC would refuse B")
	}
	if busy.IsClosed() {
		t.Fatal("A closed a channel carrying a stream")
	}
	again, _, err := pc.OpenChannel(t.Context(), idleKey, support.ChannelTiming{Timeout: coretest.WaitLimit})
	if err != nil || again == nil {
		t.Fatalf("the app's channel again: %v", err)
	}
	defer again.Close()
	if got := pc.TeamPins(); !slices.Equal(got, []string{bPin}) {
		t.Fatalf("after B joined the app accepts team pins %q, want B's %s", got, bPin)
	}
}

// TestRevokedStationLeavesPCs: B joins A's team and A's PC (the Support
// Session app's own client) learns B's pin; when the hub revokes B, A drops
// B from its stored members and closes its idle live channel, and at the
// PC's next open the answer no longer lists B's pin, so the PC no longer
// accepts B's certificate, also should it reach B on its network.
func TestRevokedStationLeavesPCs(t *testing.T) {
	h, clock := teamRig(t)
	a := joinNamedStation(t, h, clock, "Desk A")
	waitFor(t, a.states, "A in its team", func(s TeamState) bool { return s.Team == "acme" && s.Connected })
	_, key := pairedAt(t, a, "Anna Tech", "anna@example.org")
	pc, err := support.NewClient(a.env.srv.URL(), a.env.srv.Pins())
	if err != nil {
		t.Fatal(err)
	}
	open := func() *yamux.Session {
		t.Helper()
		ys, _, err := pc.OpenChannel(t.Context(), key, support.ChannelTiming{Timeout: coretest.WaitLimit})
		if err != nil || ys == nil {
			t.Fatalf("the app's channel: %v", err)
		}
		t.Cleanup(func() { ys.Close() })
		return ys
	}
	closed := func(ys *yamux.Session, why string) {
		t.Helper()
		select {
		case <-ys.CloseChan():
		case <-time.After(coretest.WaitLimit): // failsafe
			t.Fatal(why)
		}
	}
	stored := func() map[string]core.TeamPeer {
		t.Helper()
		m, ok, err := a.st.TeamMembership(t.Context())
		if err != nil || !ok {
			t.Fatalf("A's stored team: %v %v", ok, err)
		}
		return m.Members
	}
	first := open()

	b := joinNamedStation(t, h, clock, "Desk B")
	bPin := b.env.srv.Pins()[0]
	closed(first, "A kept its idle channel open after B joined")
	second := open()
	if got := pc.TeamPins(); !slices.Equal(got, []string{bPin}) {
		t.Fatalf("after B joined the app accepts team pins %q, want B's %s", got, bPin)
	}
	if p := stored()[b.id]; p.Pin != bPin {
		t.Fatalf("A's stored member B: %+v, want B's pin %s", p, bPin)
	}

	revoked := time.Now()
	if err := hubsrv.AdminRevoke(h.Dir, b.id); err != nil {
		t.Fatal(err)
	}
	closed(second, "A kept its idle channel open after B was revoked: its PC would still accept B's certificate")
	t.Logf("A closed its idle channel %v after the revocation was sent (hub's marker, A's watch, the close)", time.Since(revoked))
	if p, ok := stored()[b.id]; ok {
		t.Fatalf("A still stores the revoked B: %+v", p)
	}
	open()
	if got := pc.TeamPins(); len(got) != 0 {
		t.Fatalf("after B was revoked the app accepts team pins %q, want none", got)
	}
}
