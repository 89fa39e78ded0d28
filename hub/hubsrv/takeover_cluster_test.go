package hubsrv_test

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"adhocstation/core/hublink"
	"adhocstation/hub/hubsrv"
)

// teamStation enrols a station of team "acme" with a code printed at n
// and keeps its control connection at holder.
func teamStation(t *testing.T, c *hubCluster, n, holder *hubNode) *clusterStation {
	t.Helper()
	code, err := hubsrv.NewTeamCode(n.dir, time.Now(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	st := joinClusterStation(t, c.client(n), hubName, code)
	st.run(t, c.client(holder), hubName)
	<-st.up
	return st
}

// waitTakeover waits until every node's table says taker ("" : none) took
// over owner's session, and returns how long the slowest node took.
func waitTakeover(t *testing.T, c *hubCluster, owner *clusterStation, session, taker string) time.Duration {
	t.Helper()
	var slowest time.Duration
	for _, n := range c.nodes {
		d := waitFor(t, n, "the takeover's new state", func() bool { return n.srv.TakeoverOf(owner.id, session) == taker })
		slowest = max(slowest, d)
	}
	return slowest
}

// servedBy checks the control message of the relay st accepted last.
func servedBy(t *testing.T, st *clusterStation, session, owner string) {
	t.Helper()
	select {
	case m := <-st.ctl:
		if m.Type != "accept" || m.Session != session || m.Owner != owner {
			t.Fatalf("station %s accepted %+v, want session %s owner %q", st.id, m, session, owner)
		}
	default:
		t.Fatalf("station %s has no control message for its relay", st.id)
	}
}

// isCut checks the hub closed relay c: a read ends with an error before
// the hang guard. (A deadline on a relay conn closes it when it passes,
// so the guard is a timer here, not the conn's deadline.)
func isCut(t *testing.T, c net.Conn, why string) {
	t.Helper()
	read := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		read <- err
	}()
	select {
	case err := <-read:
		if err == nil {
			t.Fatalf("%s: the relay still carries bytes", why)
		}
	case <-time.After(20 * time.Second): // failsafe
		c.Close()
		t.Fatalf("%s: the relay was not cut", why)
	}
}

func takenByOther(t *testing.T, err error, winner string) {
	t.Helper()
	var he *hublink.HubError
	if !errors.As(err, &he) || he.Code != "taken_by_other" || he.Status != 409 || !strings.Contains(he.Message, winner) {
		t.Fatalf("the second takeover: %v, want taken_by_other naming %s", err, winner)
	}
}

// TestClusterTakeoverShared: takeovers are the cluster's. Station A holds
// its control connection at n1, B at n2, C at n1 (all of team acme). B
// takes over A's session at n2: A's open relay of that session (served at
// n1) is cut, and the PC's relay arriving at n0 reaches B with Owner = A.
// C's takeover of the same session at n1 is refused taken_by_other, n1
// blind to its own view so the bucket's Create decides; B and C racing at
// n2 and n1 leave exactly one taker each round. B's release at n2 sends
// the PC's next relay at n1 to A and cuts B's relay; B's takeover asked
// at n0 (not holding B) is renewed by n2 past its lease's TTL and routes
// the PC at n1 to B; B's control connection
// ending drops its takeover at every node and cuts its relay.
func TestClusterTakeoverShared(t *testing.T) {
	c := startCluster(t)
	n0, n1, n2 := c.nodes[0], c.nodes[1], c.nodes[2]
	n1.srv.BlindTakeovers()
	a := teamStation(t, c, n1, n1)
	b := teamStation(t, c, n2, n2)
	cs := teamStation(t, c, n1, n1)
	for _, n := range c.nodes {
		waitFor(t, n, "the leases of A, B, C", func() bool {
			return n.srv.StationHolder(a.id) == n1.url && n.srv.StationHolder(b.id) == n2.url && n.srv.StationHolder(cs.id) == n1.url
		})
	}
	const sess = "41"

	// Before: the PC at n0 reaches A (forwarded to n1).
	rcA, err := a.reachFor(a, c.client(n0), hubName, sess)
	if err != nil {
		t.Fatalf("before the takeover: %v", err)
	}
	defer rcA.Close()
	servedBy(t, a, sess, "")

	// B takes over at n2; every node learns it, n1 cuts A's relay.
	began := time.Now()
	if err := takeover(b.link, a.id, sess, false); err != nil {
		t.Fatalf("B's takeover at n2: %v", err)
	}
	answered := time.Since(began)
	d := waitTakeover(t, c, a, sess, b.id)
	t.Logf("B's takeover at n2 answered in %v; known at every node %v after its answer", answered.Round(time.Microsecond), d.Round(time.Microsecond))
	isCut(t, rcA, "A's relay of the session taken over")
	rcB, err := b.reachFor(a, c.client(n0), hubName, sess)
	if err != nil {
		t.Fatalf("the PC at n0 after B's takeover at n2: %v", err)
	}
	defer rcB.Close()
	servedBy(t, b, sess, a.id)
	// Another session of A stays A's.
	rc, err := a.reachFor(a, c.client(n0), hubName, "42")
	if err != nil {
		t.Fatalf("A's other session: %v", err)
	}
	rc.Close()
	servedBy(t, a, "42", "")

	// C at n1, blind to n1's table: the bucket refuses it.
	takenByOther(t, takeover(cs.link, a.id, sess, false), b.id)
	if got := n1.srv.TakeoverOf(a.id, sess); got != b.id {
		t.Fatalf("after C's refused takeover n1 says %q took the session, want B", got)
	}

	// B releases at n2: B's relay is cut, the PC's next relay at n1
	// reaches A.
	began = time.Now()
	if err := takeover(b.link, a.id, sess, true); err != nil {
		t.Fatalf("B's release: %v", err)
	}
	waitTakeover(t, c, a, sess, "")
	t.Logf("B's release at n2 known at every node %v after it was asked", time.Since(began).Round(time.Microsecond))
	isCut(t, rcB, "B's relay after its release")
	rc, err = a.reachFor(a, c.client(n1), hubName, sess)
	if err != nil {
		t.Fatalf("the PC at n1 after B's release: %v", err)
	}
	rc.Close()
	servedBy(t, a, sess, "")

	// B at n2 and C at n1 at once: one takes the session, the other is
	// told who did.
	for round := range 3 {
		start := make(chan struct{})
		errs := make(chan error, 2)
		for _, st := range []*clusterStation{b, cs} {
			go func() {
				<-start
				errs <- takeover(st.link, a.id, sess, false)
			}()
		}
		close(start)
		eb, ec := <-errs, <-errs
		var winner, loser *clusterStation
		if n0.srv.TakeoverOf(a.id, sess) == "" {
			waitFor(t, n0, "the winner's takeover", func() bool { return n0.srv.TakeoverOf(a.id, sess) != "" })
		}
		switch n0.srv.TakeoverOf(a.id, sess) {
		case b.id:
			winner, loser = b, cs
		case cs.id:
			winner, loser = cs, b
		default:
			t.Fatalf("round %d: n0 says %q took the session", round, n0.srv.TakeoverOf(a.id, sess))
		}
		var ok, refused int
		for _, err := range []error{eb, ec} {
			if err == nil {
				ok++
				continue
			}
			takenByOther(t, err, winner.id)
			refused++
		}
		if ok != 1 || refused != 1 {
			t.Fatalf("round %d: %d takeovers succeeded and %d were refused, want 1 and 1 (%v, %v)", round, ok, refused, eb, ec)
		}
		waitTakeover(t, c, a, sess, winner.id)
		t.Logf("round %d: %s won, %s was told taken_by_other", round, winner.id, loser.id)
		if err := takeover(winner.link, a.id, sess, true); err != nil {
			t.Fatal(err)
		}
		waitTakeover(t, c, a, sess, "")
	}

	// B again, its request landing at n0 (as the station's link reaching
	// the hub by name may), which does not hold B: n2, holding B, renews
	// and drops what n0 wrote. Then B's control connection ends: its
	// takeover goes at every node, and the PC's relays reach A again.
	bAtN0 := &hublink.Link{Hub: hubName, Credential: b.cred, Client: c.client(n0)}
	if err := takeover(bAtN0, a.id, sess, false); err != nil {
		t.Fatalf("B's takeover asked at n0: %v", err)
	}
	waitTakeover(t, c, a, sess, b.id)
	// It outlives its lease's TTL (6 s) as n2 renews it every 2 s: 5
	// renewals seen at n0 span at least 8 s.
	written := time.Now()
	for range 5 {
		rev := n0.srv.TakeoverRev(a.id, sess)
		waitFor(t, n0, "a renewal of B's takeover", func() bool { return n0.srv.TakeoverRev(a.id, sess) != rev })
	}
	for _, n := range c.nodes {
		if got := n.srv.TakeoverOf(a.id, sess); got != b.id {
			t.Fatalf("after 5 renewals %s says %q took the session, want B", n.name, got)
		}
	}
	t.Logf("B's takeover asked at n0 renewed by n2 5 times, still B's %v after it was written", time.Since(written).Round(time.Millisecond))
	rcB, err = b.reachFor(a, c.client(n1), hubName, sess)
	if err != nil {
		t.Fatalf("the PC at n1 after B's takeover asked at n0: %v", err)
	}
	defer rcB.Close()
	servedBy(t, b, sess, a.id)
	began = time.Now()
	b.link.Close()
	waitTakeover(t, c, a, sess, "")
	t.Logf("B's control connection closed: its takeover gone at every node %v later", time.Since(began).Round(time.Microsecond))
	isCut(t, rcB, "B's relay after B's control connection closed")
	for _, n := range c.nodes {
		if got := n.srv.Takeovers(); got != 0 {
			t.Fatalf("%s still holds %d takeovers", n.name, got)
		}
	}
	rc, err = a.reachFor(a, c.client(n2), hubName, sess)
	if err != nil {
		t.Fatalf("the PC at n2 after B left: %v", err)
	}
	rc.Close()
	servedBy(t, a, sess, "")
}

// TestClusterTakeoverTakerNodeKilled: B took over A's session at n2, the
// node holding B's control connection (B dials n2 only, so it cannot come
// back elsewhere); n2 dies as a crash looks to its peers (its team server
// first: it deletes nothing). The PC's relay through n1 to B ends; the
// PC, redialling at n1 every 50 ms as the app does, is refused "station
// offline" until n1 stops believing in B, then reaches A (held at n0);
// B's takeover leaves n0's and n1's tables when its lease runs out, as
// no node renews it.
func TestClusterTakeoverTakerNodeKilled(t *testing.T) {
	c := startCluster(t)
	n0, n1, n2 := c.nodes[0], c.nodes[1], c.nodes[2]
	a := teamStation(t, c, n0, n0)
	b := teamStation(t, c, n2, n2)
	for _, n := range c.nodes {
		waitFor(t, n, "the leases of A and B", func() bool {
			return n.srv.StationHolder(a.id) == n0.url && n.srv.StationHolder(b.id) == n2.url
		})
	}
	const sess = "7"
	if err := takeover(b.link, a.id, sess, false); err != nil {
		t.Fatal(err)
	}
	waitTakeover(t, c, a, sess, b.id)
	rcB, err := b.reachFor(a, c.client(n1), hubName, sess)
	if err != nil {
		t.Fatalf("the PC at n1 after B's takeover: %v", err)
	}
	defer rcB.Close()
	servedBy(t, b, sess, a.id)

	killed := time.Now()
	n2.kill()
	isCut(t, rcB, "the relay through the killed node")
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	refused := 0
	for {
		rc, err := a.reachFor(a, c.client(n1), hubName, sess)
		if err == nil {
			rc.Close()
			break
		}
		var he *hublink.HubError
		if !errors.As(err, &he) || he.Code != "station_offline" || time.Since(killed) > time.Minute {
			t.Fatalf("the PC redialling at n1: %v", err)
		}
		refused++
		<-tick.C
	}
	t.Logf("n2 killed: the PC at n1 reaches A again %v later (refused %d times meanwhile)", time.Since(killed).Round(time.Millisecond), refused)
	servedBy(t, a, sess, "")
	for _, n := range []*hubNode{n0, n1} {
		waitFor(t, n, "B's takeover running out", func() bool { return n.srv.TakeoverOf(a.id, sess) == "" })
		t.Logf("n2 killed: B's takeover gone at %s %v later (lease TTL 6 s)", n.name, time.Since(killed).Round(time.Millisecond))
	}
}
