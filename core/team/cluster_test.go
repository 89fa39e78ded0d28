package team_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"adhocstation/core/team"
	hubteam "adhocstation/hub/team"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// freePorts reserves n loopback ports by listening on :0 and closing; the
// caller retries if one was taken meanwhile (NATS routes need each node's
// route port known before any node starts).
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// cluster starts 3 nodes routed to each other, sharing one keys file as the
// docs say, each with its own store, and a team of seats with 3 replicas.
func cluster(t testing.TB, seats int) []*hubteam.Server {
	t.Helper()
	// One keys file, copied to each node's state folder before their first
	// start, as docs/TEAM.md says; each node then keeps its own copy.
	keysDir := t.TempDir()
	if _, err := hubteam.LoadOrCreateKeys(keysDir); err != nil {
		t.Fatal(err)
	}
	keysFile, err := os.ReadFile(filepath.Join(keysDir, "team", "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The routes' TLS, as a hub's nodes run it: one certificate for the
	// hub's name, trusted by all three.
	cert, roots := selfSigned(t)
	routeTLS := hubteam.RouteTLS(&tls.Config{Certificates: []tls.Certificate{cert}}, "hub.test", roots)
	for attempt := 1; ; attempt++ {
		ports := freePorts(t, 3)
		var routes []string
		for _, p := range ports {
			routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
		}
		var nodes []*hubteam.Server
		var startErr error
		for i := range 3 {
			state := t.TempDir()
			if err := os.MkdirAll(filepath.Join(state, "team"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(state, "team", "keys.json"), keysFile, 0o600); err != nil {
				t.Fatal(err)
			}
			keys, err := hubteam.LoadOrCreateKeys(state)
			if err != nil {
				t.Fatal(err)
			}
			n, err := hubteam.Start(hubteam.Config{
				StateDir: state, Name: fmt.Sprintf("n%d", i), Port: -1,
				ClusterName: "hub", ClusterPort: ports[i], Routes: routes, Replicas: 3, RouteTLS: routeTLS,
			}, keys)
			if err != nil {
				startErr = err
				break
			}
			nodes = append(nodes, n)
		}
		if startErr != nil {
			for _, n := range nodes {
				n.Shutdown()
			}
			if attempt < 5 {
				t.Logf("cluster start attempt %d: %v; again on other ports", attempt, startErr)
				continue
			}
			t.Fatal(startErr)
		}
		for _, n := range nodes {
			t.Cleanup(n.Shutdown) // Shutdown twice is harmless
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := nodes[0].WaitJetStream(ctx); err != nil {
			t.Fatal(err)
		}
		for {
			err := nodes[0].EnsureTeam(ctx, teamID, seats)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatal(err)
			}
			t.Logf("team bucket not made yet: %v", err) // peers still joining the meta group
		}
		return nodes
	}
}

// TestClusterNodeKilled: 3 nodes, bucket replicas 3, 5 stations with 4
// sessions open; the node that leads the bucket's stream dies mid-session
// (one station surely connected to it). The stations on it reconnect to
// survivors, every held seat stays held (renewed at its revision on the new
// leader), and the seat count stays exact: of 6 more prepares exactly the 1
// free seat succeeds.
func TestClusterNodeKilled(t *testing.T) {
	nodes := cluster(t, 5)
	var urls []string
	for _, n := range nodes {
		urls = append(urls, n.ClientURL())
	}
	const ttl = 6 * time.Second
	var stations []*member
	for i := range 4 {
		stations = append(stations, join(t, nodes[i%3], urls, fmt.Sprintf("st%d", i), ttl))
	}
	ctx := ctx10(t)
	for i := range 3 {
		if err := stations[i].Prepare(ctx, fmt.Sprintf("s%d", i), team.ProfileKey(fmt.Sprintf("t%d@example.org", i)), "T"); err != nil {
			t.Fatal(err)
		}
	}
	watcher := join(t, nodes[0], urls, "watcher", ttl)
	watcher.waitView(t, "3 seats held", func() bool { _, held := watcher.Seats(); return held == 3 })
	// Kill the node that leads the team bucket's stream, so the seats'
	// renewals must go through a new leader's election.
	js, err := jetstream.New(stations[0].NATS())
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "KV_"+team.Bucket(teamID))
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("the bucket's stream is not replicated on 3 nodes: %+v %v", info, err)
	}
	victim := info.Cluster.Leader
	var killed *hubteam.Server
	for _, n := range nodes {
		if n.NATS().Name() == victim {
			killed = n
		}
	}
	if killed == nil {
		t.Fatalf("the stream leader %q is not one of the nodes", victim)
	}
	t.Logf("killing %s, the bucket's stream leader", victim)
	// One more station surely on the victim (its URL first, in order), with
	// a session open, so the reconnect is always tested.
	pinnedURLs := []string{killed.ClientURL()}
	for _, n := range nodes {
		if n != killed {
			pinnedURLs = append(pinnedURLs, n.ClientURL())
		}
	}
	pinned := joinWith(t, nodes[0], pinnedURLs, "pinned", ttl, nil, true)
	if got := pinned.NATS().ConnectedServerName(); got != victim {
		t.Fatalf("the pinned station is on %q, not on %q", got, victim)
	}
	if err := pinned.Prepare(ctx, "p0", team.ProfileKey("pinned@example.org"), "P"); err != nil {
		t.Fatal(err)
	}
	stations = append(stations, pinned)
	watcher.waitView(t, "4 seats held", func() bool { _, held := watcher.Seats(); return held == 4 })
	var onVictim []*member
	for _, st := range stations {
		if st.NATS().ConnectedServerName() == victim {
			onVictim = append(onVictim, st)
		}
	}
	start := time.Now()
	killed.Shutdown()
	for _, st := range onVictim {
		select {
		case <-st.reconnected:
		case <-time.After(30 * time.Second): // failsafe
			t.Fatalf("station %s did not reconnect to a surviving node", st.id)
		}
		if got := st.NATS().ConnectedServerName(); got == victim || got == "" {
			t.Fatalf("station %s reconnected to %q", st.id, got)
		}
		t.Logf("station %s on %s again %v after the kill", st.id, st.NATS().ConnectedServerName(), time.Since(start).Round(time.Millisecond))
	}
	// Every session still holds its seat after more than a TTL (renewals
	// went through on the new stream leader), seen on the watcher's watch,
	// which itself lived through the kill.
	ctx2, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	past := time.Now().Add(ttl + time.Second)
	watcher.waitView(t, "held seats over a TTL after the kill", func() bool {
		_, held := watcher.Seats()
		if held != 4 {
			t.Fatalf("%d seats held after the node died, want 4", held)
		}
		return time.Now().After(past)
	})
	// 6 prepares at once for the 1 free seat: exactly 1 succeeds.
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := stations[i%4].Prepare(ctx2, fmt.Sprintf("late%d", i), team.ProfileKey(fmt.Sprintf("late%d@example.org", i)), "L")
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, team.ErrNoSeat):
				t.Errorf("prepare %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d of 6 prepares got the free seat, want exactly 1", ok.Load())
	}
	watcher.waitView(t, "5 seats held", func() bool { _, held := watcher.Seats(); return held == 5 })
}

// TestClusterRevocation: a station connected to one node is cut when the
// revocation is made through another node, and a third node, with its own
// copy of the keys file, refuses the station a new credential.
func TestClusterRevocation(t *testing.T) {
	nodes := cluster(t, 5)
	st := join(t, nodes[0], []string{nodes[2].ClientURL()}, "lost-kiosk", 30*time.Second)
	cut := make(chan struct{})
	var once sync.Once
	st.NATS().SetDisconnectErrHandler(func(*nats.Conn, error) { once.Do(func() { close(cut) }) })
	st.NATS().SetClosedHandler(func(*nats.Conn) { once.Do(func() { close(cut) }) })
	start := time.Now()
	if err := nodes[0].Revoke(ctx10(t), "lost-kiosk", st.userPub); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cut:
	case <-time.After(10 * time.Second): // failsafe
		t.Fatal("the station on node n2 was not cut by a revocation made on n0")
	}
	t.Logf("station on n2 cut %v after the revocation on n0", time.Since(start).Round(time.Microsecond))
	// n1 learnt it from the push, not from its keys file.
	ctx := ctx10(t)
	for {
		_, err := nodes[1].IssueUser(teamID, "lost-kiosk", st.userPub, time.Hour)
		if err != nil {
			break
		}
		select { // the push may still be on its way to n1: ask again at its next change
		case <-ctx.Done():
			t.Fatal("node n1 still issues credentials to the revoked station's key")
		case <-time.After(50 * time.Millisecond):
		}
	}
}
