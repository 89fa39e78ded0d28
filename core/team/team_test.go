package team_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"adhocstation/core/refusal"
	"adhocstation/core/team"
	hubteam "adhocstation/hub/team"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

const teamID = "acme"

// hub starts one embedded team node (random port, store in a temp folder)
// with a team of the given seats.
func hub(t testing.TB, seats int) *hubteam.Server {
	t.Helper()
	dir := t.TempDir()
	keys, err := hubteam.LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := hubteam.Start(hubteam.Config{StateDir: dir, Port: -1}, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.EnsureTeam(ctx, teamID, seats); err != nil {
		t.Fatal(err)
	}
	return srv
}

// member is a station in the team, with a channel poked at every change of
// its view of the bucket.
type member struct {
	*team.Client
	id          string
	userPub     string
	changed     chan struct{}
	reconnected chan struct{}
}

type issuer interface {
	IssueUser(teamID, stationID, userPub string, ttl time.Duration) (string, error)
}

func join(t testing.TB, iss issuer, urls []string, id string, ttl time.Duration) *member {
	t.Helper()
	return joinWith(t, iss, urls, id, ttl, nil, false)
}

func joinTLS(t testing.TB, iss issuer, urls []string, id string, ttl time.Duration, tlsCfg *tls.Config) *member {
	t.Helper()
	return joinWith(t, iss, urls, id, ttl, tlsCfg, false)
}

func joinWith(t testing.TB, iss issuer, urls []string, id string, ttl time.Duration, tlsCfg *tls.Config, inOrder bool) *member {
	t.Helper()
	return joinCfg(t, iss, urls, id, ttl, func(c *team.Config) { c.TLS, c.InOrder = tlsCfg, inOrder })
}

// joinCfg joins with the config changed by mod (after the defaults).
func joinCfg(t testing.TB, iss issuer, urls []string, id string, ttl time.Duration, mod func(*team.Config)) *member {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	upub, _ := kp.PublicKey()
	m := &member{id: id, userPub: upub, changed: make(chan struct{}, 1), reconnected: make(chan struct{}, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := team.Config{
		URLs: urls, TeamID: teamID, StationID: id, UserSeed: seed, LeaseTTL: ttl,
		JWT: func() (string, error) { return iss.IssueUser(teamID, id, upub, time.Hour) },
		OnReconnect: func() {
			select {
			case m.reconnected <- struct{}{}:
			default:
			}
		},
		OnChange: func([]team.Entry) {
			select {
			case m.changed <- struct{}{}:
			default:
			}
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := team.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("station %s: %v", id, err)
	}
	m.Client = c
	t.Cleanup(c.Close)
	return m
}

// waitView waits, on the station's watch (no sleeps), until cond holds.
func (m *member) waitView(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second) // a failsafe for a hung test, not a measure
	for !cond() {
		select {
		case <-m.changed:
		case <-deadline:
			t.Fatalf("station %s never saw %s", m.id, what)
		}
	}
}

func ctx10(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestConcurrentPreparesExactSeats: 20 prepares at once from 4 stations for
// 5 seats — exactly 5 get a seat, the 15 others the seat refusal.
func TestConcurrentPreparesExactSeats(t *testing.T) {
	srv := hub(t, 5)
	var stations []*member
	for i := range 4 {
		stations = append(stations, join(t, srv, []string{srv.ClientURL()}, fmt.Sprintf("st%d", i), 30*time.Second))
	}
	ctx := ctx10(t)
	var ok atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	start := make(chan struct{})
	for i := range 20 {
		st := stations[i%4]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := st.Prepare(ctx, fmt.Sprintf("s%d", i), team.ProfileKey(fmt.Sprintf("tech%d@example.org", i)), "Tech")
			if err == nil {
				ok.Add(1)
				return
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	if ok.Load() != 5 {
		t.Fatalf("%d prepares got a seat, want exactly 5", ok.Load())
	}
	n := 0
	for err := range errs {
		n++
		if !errors.Is(err, team.ErrNoSeat) {
			t.Errorf("refusal %v is not the seat refusal", err)
		}
		var r refusal.Refusal
		if !errors.As(err, &r) || r.RefusalCode() != "no_seat" || !strings.Contains(err.Error(), "All 5 seats of your team are in use") {
			t.Errorf("refusal %q (%T) does not read as the station's seat refusal", err, err)
		}
	}
	if n != 15 {
		t.Fatalf("%d refusals, want 15", n)
	}
	seated := 0
	for _, st := range stations {
		s, u := st.Holding()
		seated += s
		if u != 0 {
			t.Errorf("station %s holds %d sessions without a seat", st.id, u)
		}
	}
	if seated != 5 {
		t.Fatalf("stations hold %d seats, want 5", seated)
	}
	// A fresh station sees exactly 5 held seats in the bucket.
	watcher := join(t, srv, []string{srv.ClientURL()}, "watcher", 30*time.Second)
	if total, held := watcher.Seats(); total != 5 || held != 5 {
		t.Fatalf("the bucket shows %d of %d seats held, want 5 of 5", held, total)
	}
}

// TestKilledStationFreesSeat: a station that dies holding a seat stops
// renewing its lease; the seat comes free within the TTL, seen on another
// station's watch, and can be taken.
func TestKilledStationFreesSeat(t *testing.T) {
	srv := hub(t, 1)
	const ttl = 2 * time.Second
	a := join(t, srv, []string{srv.ClientURL()}, "kiosk", ttl)
	b := join(t, srv, []string{srv.ClientURL()}, "desk", ttl)
	ctx := ctx10(t)
	if err := a.Prepare(ctx, "s1", team.ProfileKey("anna@example.org"), "Anna"); err != nil {
		t.Fatal(err)
	}
	b.waitView(t, "the kiosk's seat held", func() bool { _, held := b.Seats(); return held == 1 })
	if err := b.Prepare(ctx, "s2", team.ProfileKey("bob@example.org"), "Bob"); !errors.Is(err, team.ErrNoSeat) {
		t.Fatalf("prepare with the only seat held: %v, want the seat refusal", err)
	}
	// Renewals kept it past several TTL/3 ticks? Wait one renewal round on
	// the watch: the seat key's revision changes when the kiosk renews.
	killed := time.Now()
	a.Close() // no release: as if the kiosk's process died
	b.waitView(t, "the seat freed", func() bool { _, held := b.Seats(); return held == 0 })
	t.Logf("seat free %v after the holder died (TTL %v)", time.Since(killed).Round(time.Millisecond), ttl)
	if err := b.Prepare(ctx, "s2", team.ProfileKey("bob@example.org"), "Bob"); err != nil {
		t.Fatalf("prepare after the seat came free: %v", err)
	}
}

// TestLeaseOutlivesTTLWhileRenewed: a live holder keeps its seat over
// several TTLs (the renewal works), so the test above can fail.
func TestLeaseOutlivesTTLWhileRenewed(t *testing.T) {
	srv := hub(t, 1)
	const ttl = time.Second
	a := join(t, srv, []string{srv.ClientURL()}, "kiosk", ttl)
	b := join(t, srv, []string{srv.ClientURL()}, "desk", ttl)
	if err := a.Prepare(ctx10(t), "s1", team.ProfileKey("anna@example.org"), "Anna"); err != nil {
		t.Fatal(err)
	}
	b.waitView(t, "the seat held", func() bool { _, held := b.Seats(); return held == 1 })
	// Watch for 3 TTLs (woken by every renewal the watch sees, no sleeps):
	// the seat must never be seen free.
	start := time.Now()
	freed := false
	b.waitView(t, "3 TTLs of renewals", func() bool {
		if _, held := b.Seats(); held == 0 {
			freed = true
			return true
		}
		return time.Since(start) > 3*ttl
	})
	if freed {
		t.Fatal("the seat came free while its holder was alive and renewing")
	}
}

// TestOneProfileOneSessionAcrossStations.
func TestOneProfileOneSessionAcrossStations(t *testing.T) {
	srv := hub(t, 5)
	a := join(t, srv, []string{srv.ClientURL()}, "kiosk", 30*time.Second)
	b := join(t, srv, []string{srv.ClientURL()}, "desk", 30*time.Second)
	ctx := ctx10(t)
	anna := team.ProfileKey("Anna@Example.org")
	if err := a.Prepare(ctx, "s1", anna, "Anna"); err != nil {
		t.Fatal(err)
	}
	err := b.Prepare(ctx, "s2", team.ProfileKey("anna@example.org "), "Anna")
	if !errors.Is(err, team.ErrProfileBusy) {
		t.Fatalf("second open session of one profile at another station: %v, want the profile refusal", err)
	}
	if _, held := b.Seats(); held > 1 {
		t.Fatalf("the refused prepare left a seat held (%d held)", held)
	}
	if err := a.Release(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if err := b.Prepare(ctx, "s2", anna, "Anna"); err != nil {
		t.Fatalf("after the first session ended: %v", err)
	}
}

// TestRevokedStationIsCut: the hub revokes a station; the server closes its
// connection and the hub issues it no new credential.
func TestRevokedStationIsCut(t *testing.T) {
	srv := hub(t, 5)
	a := join(t, srv, []string{srv.ClientURL()}, "lost-kiosk", 30*time.Second)
	b := join(t, srv, []string{srv.ClientURL()}, "desk", 30*time.Second)
	cut := make(chan struct{})
	var once sync.Once
	// Cut is the first of: the connection drops, or the station closes it
	// on being told it is revoked (whichever nats.go reports first).
	a.NATS().SetDisconnectErrHandler(func(*nats.Conn, error) { once.Do(func() { close(cut) }) })
	a.NATS().SetClosedHandler(func(*nats.Conn) { once.Do(func() { close(cut) }) })
	start := time.Now()
	if err := srv.Revoke(ctx10(t), "lost-kiosk", a.userPub); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cut:
	case <-time.After(10 * time.Second): // failsafe
		t.Fatal("the revoked station is still connected")
	}
	t.Logf("revoked station cut %v after Revoke was called", time.Since(start).Round(time.Microsecond))
	if a.Connected() {
		t.Fatal("the revoked station reconnected")
	}
	cz, err := srv.NATS().Connz(&server.ConnzOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ci := range cz.Conns {
		if ci.Name == "station lost-kiosk" {
			t.Fatal("the hub still lists the revoked station's connection")
		}
	}
	if !a.Revoked() {
		t.Error("the station was not told it was revoked")
	}
	if err := a.Prepare(context.Background(), "s1", team.ProfileKey("x@example.org"), "X"); !errors.Is(err, team.ErrRevoked) {
		t.Errorf("prepare on a revoked station: %v", err)
	}
	if err := a.AnnounceTakeover(context.Background(), "desk", "s1", "X", "PC"); !errors.Is(err, team.ErrRevoked) {
		t.Errorf("a takeover notice from a revoked station: %v", err)
	}
	if _, err := srv.IssueUser(teamID, "lost-kiosk", a.userPub, time.Hour); err == nil {
		t.Error("the hub issued a new credential to a revoked station")
	}
	if !b.Connected() {
		t.Error("revoking one station cut another")
	}
}

// TestStationPermissions: a station may not write the team's config nor
// another station's keys, nor read another station's inbox.
func TestStationPermissions(t *testing.T) {
	srv := hub(t, 5)
	a := join(t, srv, []string{srv.ClientURL()}, "kiosk", 30*time.Second)
	join(t, srv, []string{srv.ClientURL()}, "desk", 30*time.Second)
	ctx := ctx10(t)
	if err := srv.EnsureTeam(ctx, "other", 5); err != nil {
		t.Fatal(err)
	}
	nc := a.NATS()
	// The control: the same kind of write to the station's own key is acked.
	if _, err := nc.RequestWithContext(ctx, "$KV."+team.Bucket(teamID)+".session.kiosk.s1", []byte(`{}`)); err != nil {
		t.Fatalf("station kiosk could not write its own session key: %v", err)
	}
	// Asking desk to end a session, or telling it of a takeover, under its
	// own name is allowed; so is deleting a notice addressed to itself.
	for _, subj := range []string{".end.desk.s1.kiosk", ".took.desk.s1.kiosk", ".took.kiosk.s1.desk"} {
		if _, err := nc.RequestWithContext(ctx, "$KV."+team.Bucket(teamID)+subj, []byte(`{}`)); err != nil {
			t.Fatalf("station kiosk could not write %s: %v", subj, err)
		}
	}
	for _, subj := range []string{
		"$KV." + team.Bucket("other") + ".seat.1",
		"$KV." + team.Bucket(teamID) + ".config",
		"$KV." + team.Bucket(teamID) + ".station.desk",
		"$KV." + team.Bucket(teamID) + ".session.desk.s1",
		// a request in another station's name, or a delete of a request
		// addressed to another station
		"$KV." + team.Bucket(teamID) + ".end.other.s1.desk",
		"$KV." + team.Bucket(teamID) + ".end.desk.s1.kiosk2",
		// the same for takeover notices: none in another station's name
		// (desk's, or a third's), no delete of one addressed to desk
		"$KV." + team.Bucket(teamID) + ".took.other.s1.desk",
		"$KV." + team.Bucket(teamID) + ".took.desk.s1.other",
		"$KV." + team.Bucket(teamID) + ".took.desk.s1.kiosk2",
		"$KV." + team.Bucket(teamID) + ".took.kiosk",
	} {
		// A publish with a reply waits for the JetStream ack; a denied
		// publish is dropped by the server, so no ack comes.
		rctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_, err := nc.RequestWithContext(rctx, subj, []byte(`{"seats":100}`))
		cancel()
		if err == nil {
			t.Errorf("station kiosk could write %s", subj)
		}
	}
	if _, err := nc.SubscribeSync(team.InboxPrefix("desk") + ".>"); err == nil {
		if err := nc.FlushTimeout(2 * time.Second); err == nil {
			if le := nc.LastError(); le == nil || !strings.Contains(strings.ToLower(le.Error()), "permissions violation") {
				t.Errorf("station kiosk subscribed to desk's inbox (last error %v)", le)
			}
		}
	}
}

// TestSessionListAcrossStations: a session published at one station shows
// at the other through the watch, with who prepared it and online states;
// a station that stops shows offline.
func TestSessionListAcrossStations(t *testing.T) {
	srv := hub(t, 5)
	const ttl = 2 * time.Second
	a := join(t, srv, []string{srv.ClientURL()}, "kiosk", ttl)
	b := join(t, srv, []string{srv.ClientURL()}, "desk", ttl)
	ctx := ctx10(t)
	if err := a.Publish(ctx, team.Entry{Session: "s1", PreparedBy: "Anna", State: "waiting", PCOnline: false}); err != nil {
		t.Fatal(err)
	}
	find := func() (team.Entry, bool) {
		for _, e := range b.List() {
			if e.Station == "kiosk" && e.Session == "s1" {
				return e, true
			}
		}
		return team.Entry{}, false
	}
	b.waitView(t, "kiosk's session", func() bool { e, ok := find(); return ok && e.StationOnline })
	if err := a.Publish(ctx, team.Entry{Session: "s1", PreparedBy: "Anna", State: "connected", PCOnline: true}); err != nil {
		t.Fatal(err)
	}
	b.waitView(t, "the PC online", func() bool { e, _ := find(); return e.PCOnline && e.PreparedBy == "Anna" })
	a.Close()
	b.waitView(t, "the kiosk offline", func() bool { e, ok := find(); return ok && !e.StationOnline })
}

// TestOfflineShareAndReconcile: with the hub down, a station works alone on
// its share (team seats / stations last seen online), refuses past it with
// the offline seat refusal, and claims its sessions' seats and profiles in
// the team once the hub is back.
func TestOfflineShareAndReconcile(t *testing.T) {
	dir := t.TempDir()
	keys, err := hubteam.LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := hubteam.Start(hubteam.Config{StateDir: dir, Port: -1}, keys)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.EnsureTeam(ctx10(t), teamID, 4); err != nil {
		t.Fatal(err)
	}
	url := srv.ClientURL()
	iss := &swappable{srv: srv}
	a := join(t, iss, []string{url}, "kiosk", 3*time.Second)
	b := join(t, iss, []string{url}, "desk", 3*time.Second)
	a.waitView(t, "both stations online", func() bool { return a.OfflineShare() == 2 })
	if err := a.Prepare(ctx10(t), "early", team.ProfileKey("early@example.org"), "E"); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(ctx10(t), team.Entry{Session: "early", PreparedBy: "E", State: "prepared"}); err != nil {
		t.Fatal(err)
	}
	b.waitView(t, "the kiosk's early session", func() bool { return listed(b, "kiosk", "early") })
	down := make(chan struct{})
	var once sync.Once
	a.NATS().SetDisconnectErrHandler(func(*nats.Conn, error) { once.Do(func() { close(down) }) })
	srv.Shutdown()
	<-down
	ctx := context.Background()
	// Ended while the hub is away: its seat runs out, its line goes later.
	if err := a.Release(ctx, "early"); err == nil {
		t.Fatal("a release with the hub down reported success")
	}
	for i := range 2 {
		if err := a.Prepare(ctx, fmt.Sprintf("off%d", i), team.ProfileKey(fmt.Sprintf("o%d@example.org", i)), "O"); err != nil {
			t.Fatalf("offline prepare %d within the share: %v", i, err)
		}
	}
	err = a.Prepare(ctx, "off2", team.ProfileKey("o2@example.org"), "O")
	var se *team.SeatError
	if !errors.As(err, &se) || !se.Offline || se.Seats != 2 || !errors.Is(err, team.ErrNoSeat) {
		t.Fatalf("prepare past the offline share: %v", err)
	}
	if seated, unseated := a.Holding(); seated != 0 || unseated != 2 {
		t.Fatalf("offline: %d seated, %d unseated, want 0 and 2", seated, unseated)
	}
	if err := a.Publish(ctx, team.Entry{Session: "off0", PreparedBy: "O", State: "prepared"}); err == nil {
		t.Fatal("a publish with the hub down reported success")
	}
	// The hub comes back on the same address and state.
	port := url[strings.LastIndex(url, ":")+1:]
	var p int
	fmt.Sscan(port, &p)
	srv2, err := hubteam.Start(hubteam.Config{StateDir: dir, Port: p}, keys)
	if err != nil {
		t.Fatalf("restart on port %d: %v", p, err)
	}
	t.Cleanup(srv2.Shutdown)
	iss.set(srv2)
	back := time.Now()
	<-a.reconnected
	t.Logf("kiosk reconnected %v after the hub restarted", time.Since(back).Round(time.Millisecond))
	a.waitView(t, "its sessions seated again", func() bool { s, u := a.Holding(); return s == 2 && u == 0 })
	t.Logf("kiosk's offline sessions seated %v after the hub restarted", time.Since(back).Round(time.Millisecond))
	b.waitView(t, "the kiosk's 2 seats", func() bool { _, held := b.Seats(); return held == 2 })
	b.waitView(t, "the line of the session ended while the hub was down gone", func() bool { return !listed(b, "kiosk", "early") })
	b.waitView(t, "the entry published while the hub was down", func() bool {
		for _, e := range b.List() {
			if e.Station == "kiosk" && e.Session == "off0" && e.PreparedBy == "O" {
				return true
			}
		}
		return false
	})
	if err := b.Prepare(ctx10(t), "d1", team.ProfileKey("o1@example.org"), "O"); !errors.Is(err, team.ErrProfileBusy) {
		t.Fatalf("the profile opened offline at the kiosk, prepared at the desk: %v", err)
	}
}

// swappable issues JWTs from whichever hub runs now (a restart makes a new
// *Server on the same keys).
type swappable struct {
	mu  sync.Mutex
	srv *hubteam.Server
}

func (s *swappable) set(srv *hubteam.Server) { s.mu.Lock(); s.srv = srv; s.mu.Unlock() }
func (s *swappable) IssueUser(teamID, stationID, userPub string, ttl time.Duration) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv.IssueUser(teamID, stationID, userPub, ttl)
}

// TestStartWithoutHub: a station that starts while the hub is unreachable,
// given what it knew of the team (Known), works alone on its share and
// joins the team when the hub comes up: its sessions get their seats.
func TestStartWithoutHub(t *testing.T) {
	dir := t.TempDir()
	keys, err := hubteam.LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := hubteam.Start(hubteam.Config{StateDir: dir, Port: -1}, keys)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.EnsureTeam(ctx10(t), teamID, 4); err != nil {
		t.Fatal(err)
	}
	url := srv.ClientURL()
	iss := &swappable{srv: srv}
	desk := join(t, iss, []string{url}, "desk", 3*time.Second)
	kiosk := join(t, iss, []string{url}, "kiosk", 3*time.Second)
	desk.waitView(t, "two stations", func() bool { return desk.Known() == team.Known{Seats: 4, Stations: 2} })
	known := desk.Known()
	desk.Close()
	kiosk.Close()
	srv.Shutdown()

	kp, _ := nkeys.CreateUser()
	seed, _ := kp.Seed()
	upub, _ := kp.PublicKey()
	connected := make(chan struct{}, 1)
	changed := make(chan struct{}, 1)
	poke := func(ch chan struct{}) {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	c, err := team.Open(ctx10(t), team.Config{
		URLs: []string{url}, TeamID: teamID, StationID: "desk", UserSeed: seed, LeaseTTL: 3 * time.Second, Known: &known,
		JWT:         func() (string, error) { return iss.IssueUser(teamID, "desk", upub, time.Hour) },
		OnReconnect: func() { poke(connected) },
		OnChange:    func([]team.Entry) { poke(changed) },
	})
	if err != nil {
		t.Fatalf("open with the hub down and Known given: %v", err)
	}
	t.Cleanup(c.Close)
	if c.Connected() || c.OfflineShare() != 2 {
		t.Fatalf("connected %v, share %d; want alone on a share of 2", c.Connected(), c.OfflineShare())
	}
	ctx := context.Background()
	for i := range 2 {
		if err := c.Prepare(ctx, fmt.Sprintf("s%d", i), team.ProfileKey(fmt.Sprintf("p%d@example.org", i)), "P"); err != nil {
			t.Fatal(err)
		}
	}
	var se *team.SeatError
	if err := c.Prepare(ctx, "s2", team.ProfileKey("p2@example.org"), "P"); !errors.As(err, &se) || !se.Offline {
		t.Fatalf("past the share: %v", err)
	}
	port := url[strings.LastIndex(url, ":")+1:]
	var p int
	fmt.Sscan(port, &p)
	srv2, err := hubteam.Start(hubteam.Config{StateDir: dir, Port: p}, keys)
	if err != nil {
		t.Fatalf("restart on port %d: %v", p, err)
	}
	t.Cleanup(srv2.Shutdown)
	iss.set(srv2)
	<-connected
	deadline := time.After(20 * time.Second) // failsafe
	for {
		if s, _ := c.Holding(); s == 2 {
			if _, held := c.Seats(); held == 2 {
				break
			}
		}
		select {
		case <-changed:
		case <-deadline:
			s, u := c.Holding()
			t.Fatalf("after the hub came up: %d seated, %d unseated", s, u)
		}
	}
}

// shortLived issues JWTs that expire after ttl (the server's granularity is
// a second), counting them.
type shortLived struct {
	srv    *hubteam.Server
	ttl    time.Duration
	issued atomic.Int32
}

func (s *shortLived) IssueUser(teamID, stationID, userPub string, _ time.Duration) (string, error) {
	s.issued.Add(1)
	return s.srv.IssueUser(teamID, stationID, userPub, s.ttl)
}

// TestExpiredCredentialRenewed: the server closes a connection whose JWT
// expired; the station dials again with a fresh JWT and keeps its seat.
func TestExpiredCredentialRenewed(t *testing.T) {
	srv := hub(t, 1)
	iss := &shortLived{srv: srv, ttl: 2 * time.Second}
	m := join(t, iss, []string{srv.ClientURL()}, "desk", 5*time.Second)
	if err := m.Prepare(ctx10(t), "s1", team.ProfileKey("a@example.org"), "A"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.reconnected:
	case <-time.After(20 * time.Second): // failsafe
		t.Fatal("the connection was never closed and redialled at the JWT's expiry")
	}
	if n := iss.issued.Load(); n < 2 {
		t.Fatalf("%d JWTs issued; the redial did not ask for a fresh one", n)
	}
	other := join(t, srv, []string{srv.ClientURL()}, "kiosk", 5*time.Second)
	if err := other.Prepare(ctx10(t), "k1", team.ProfileKey("b@example.org"), "B"); !errors.Is(err, team.ErrNoSeat) {
		t.Fatalf("after the desk's redial its seat should still be held: %v", err)
	}
	if s, u := m.Holding(); s != 1 || u != 0 {
		t.Fatalf("desk holds %d seated, %d unseated", s, u)
	}
}

// listed reports whether m's team list has station's session.
func listed(m *member, station, session string) bool {
	for _, e := range m.List() {
		if e.Station == station && e.Session == session {
			return true
		}
	}
	return false
}

// TestRestartedStationClearsStaleLines: a station that died with sessions
// in the team's list clears, once started again, the lines it neither
// claims nor publishes any more.
func TestRestartedStationClearsStaleLines(t *testing.T) {
	srv := hub(t, 5)
	url := []string{srv.ClientURL()}
	const ttl = 2 * time.Second
	a := join(t, srv, url, "kiosk", ttl)
	b := join(t, srv, url, "desk", ttl)
	ctx := ctx10(t)
	for _, s := range []string{"kept", "ended"} {
		if err := a.Prepare(ctx, s, team.ProfileKey(s+"@example.org"), "K"); err != nil {
			t.Fatal(err)
		}
		if err := a.Publish(ctx, team.Entry{Session: s, PreparedBy: "K", State: "active"}); err != nil {
			t.Fatal(err)
		}
	}
	b.waitView(t, "both kiosk lines", func() bool { return listed(b, "kiosk", "kept") && listed(b, "kiosk", "ended") })
	a.Close() // dies; "ended" ends while it is down
	again := join(t, srv, url, "kiosk", ttl)
	// As core's UseSeatPool does at start: claim, then publish, each open session.
	if err := again.Prepare(ctx, "kept", team.ProfileKey("other@example.org"), "K"); err != nil {
		t.Fatal(err)
	}
	if err := again.Publish(ctx, team.Entry{Session: "kept", PreparedBy: "K", State: "active"}); err != nil {
		t.Fatal(err)
	}
	b.waitView(t, "the stale line cleared, the kept one still there", func() bool {
		return !listed(b, "kiosk", "ended") && listed(b, "kiosk", "kept")
	})
}
