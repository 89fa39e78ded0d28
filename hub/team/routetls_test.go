package team

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// testCA is a private CA issuing the nodes' certificates for hub.test
// (no IP address in them: the nodes must check the hub's name, not the
// route URL's 127.0.0.1), with the server key usage only, as public CAs
// issue them now.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T, cn string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return &testCA{cert: c, key: key, pool: pool}
}

func (ca *testCA) issue(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{name},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// freePorts holds n free ports until it returns (route URLs must be known
// before the nodes start; startNodes retries when one was taken meanwhile).
func freePorts(t *testing.T, n int) []int {
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

// startNodes starts len(routeTLS) clustered nodes sharing one keys.json;
// the first `named` nodes' routes name each other, and the others' name
// all of them.
func startNodes(t *testing.T, routeTLS []*tls.Config, named int) []*Server {
	t.Helper()
	dir := t.TempDir()
	if _, err := LoadOrCreateKeys(dir); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		ports := freePorts(t, len(routeTLS))
		var routes []string
		for _, p := range ports {
			routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
		}
		var nodes []*Server
		var startErr error
		for i, rt := range routeTLS {
			keys, err := LoadOrCreateKeys(dir)
			if err != nil {
				t.Fatal(err)
			}
			rs := routes
			if i < named {
				rs = routes[:named]
			}
			s, err := Start(Config{StateDir: dir, Name: fmt.Sprintf("n%d", i), Port: -1, ClusterName: "hub",
				ClusterPort: ports[i], Routes: rs, Replicas: 3, RouteTLS: rt}, keys)
			if err != nil {
				startErr = err
				break
			}
			nodes = append(nodes, s)
		}
		if startErr == nil {
			for _, n := range nodes {
				t.Cleanup(n.Shutdown)
			}
			return nodes
		}
		for _, n := range nodes {
			n.Shutdown()
		}
		if attempt == 5 {
			t.Fatal(startErr)
		}
		t.Logf("cluster start attempt %d: %v; again on other ports", attempt, startErr)
	}
}

func routePeers(s *Server) []string {
	rz, err := s.NATS().Routez(nil)
	if err != nil {
		return nil
	}
	var out []string
	for _, r := range rz.Routes {
		out = append(out, r.RemoteName)
	}
	return out
}

// TestClusterRoutesTLS: three nodes holding certificates of the hub's CA
// form a cluster over TLS routes and share a team bucket; a node's route
// port asks for TLS 1.3 and presents the node's certificate.
func TestClusterRoutesTLS(t *testing.T) {
	ca := newTestCA(t, "hub CA")
	var certs []tls.Certificate
	var cfgs []*tls.Config
	for range 3 {
		c := ca.issue(t, "hub.test")
		certs = append(certs, c)
		cfgs = append(cfgs, RouteTLS(&tls.Config{Certificates: []tls.Certificate{c}}, "hub.test", ca.pool))
	}
	nodes := startNodes(t, cfgs, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := nodes[0].WaitJetStream(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].EnsureTeam(ctx, "acme", 4); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[1:] {
		if seats, err := n.Seats(ctx, "acme"); err != nil || seats != 4 {
			t.Fatalf("node %s sees the team's bucket with %d seats (%v), want 4", n.NodeName(), seats, err)
		}
	}

	// A plain TCP peer on the route port gets no INFO and no PONG for its
	// CONNECT: the port speaks TLS first, 1.3, with the node's certificate.
	addr := nodes[1].NATS().ClusterAddr().String()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("CONNECT {\"user\":\"hub\",\"pass\":\"x\"}\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(conn)          // until the node closes it
	if len(got) > 0 && got[0] != 0x15 { // only a TLS alert record may come back
		t.Fatalf("the route port answered plain TCP with %q", got)
	}
	old := &tls.Config{ServerName: "hub.test", RootCAs: ca.pool, Certificates: []tls.Certificate{certs[0]}, MaxVersion: tls.VersionTLS12}
	if c, err := tls.Dial("tcp", addr, old); err == nil {
		c.Close()
		t.Error("the route port accepted TLS 1.2")
	}
	tc, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "hub.test", RootCAs: ca.pool, Certificates: []tls.Certificate{certs[0]}})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	st := tc.ConnectionState()
	if st.Version != tls.VersionTLS13 {
		t.Errorf("the route port speaks TLS version %x, want 1.3", st.Version)
	}
	if !st.PeerCertificates[0].Equal(certs[1].Leaf) {
		t.Error("the route port presented another certificate than its node's")
	}
}

// TestClusterRoutesRefuseStranger: a node whose certificate is for the
// hub's name but from a CA the others do not trust (it trusts theirs, so
// only the others' check of the dialling node stops it) does not join,
// even with the route password; the three others still form the cluster.
func TestClusterRoutesRefuseStranger(t *testing.T) {
	ca, rogue := newTestCA(t, "hub CA"), newTestCA(t, "rogue CA")
	both := x509.NewCertPool()
	both.AddCert(ca.cert)
	both.AddCert(rogue.cert)
	refused := make(chan struct{}, 64)
	var cfgs []*tls.Config
	for range 3 {
		rt := RouteTLS(&tls.Config{Certificates: []tls.Certificate{ca.issue(t, "hub.test")}}, "hub.test", ca.pool)
		verify := rt.VerifyConnection
		rt.VerifyConnection = func(cs tls.ConnectionState) error {
			err := verify(cs)
			if err != nil && len(cs.PeerCertificates) > 0 && cs.PeerCertificates[0].Issuer.CommonName == "rogue CA" {
				select {
				case refused <- struct{}{}:
				default:
				}
			}
			return err
		}
		cfgs = append(cfgs, rt)
	}
	cfgs = append(cfgs, RouteTLS(&tls.Config{Certificates: []tls.Certificate{rogue.issue(t, "hub.test")}}, "hub.test", both))
	// The three name only each other: the stranger dials them, so only
	// their check of a dialling node's certificate can keep it out.
	nodes := startNodes(t, cfgs, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := nodes[0].WaitJetStream(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].EnsureTeam(ctx, "acme", 2); err != nil {
		t.Fatal(err)
	}
	if seats, err := nodes[2].Seats(ctx, "acme"); err != nil || seats != 2 {
		t.Fatalf("the trusted nodes do not share the bucket: %d seats, %v", seats, err)
	}
	// Wait until the stranger was refused by all three (it dials each),
	// then no route may link it to any node.
	for range 3 {
		select {
		case <-refused:
		case <-ctx.Done():
			t.Fatal("no node ever checked the stranger's certificate")
		}
	}
	if p := routePeers(nodes[3]); len(p) != 0 {
		t.Errorf("the stranger has routes to %v", p)
	}
	for _, n := range nodes[:3] {
		for _, p := range routePeers(n) {
			if p == "n3" {
				t.Errorf("node %s has a route to the stranger", n.NodeName())
			}
		}
	}
}

// TestClusterRoutesPlainRefused: a cluster node without route TLS starts
// only when told its routes are plain on purpose, and the refusal names
// what to do.
func TestClusterRoutesPlainRefused(t *testing.T) {
	dir := t.TempDir()
	keys, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{StateDir: dir, Port: -1, ClusterName: "hub", ClusterPort: -1, Routes: []string{"nats-route://127.0.0.1:1"}}
	if s, err := Start(cfg, keys); err == nil {
		s.Shutdown()
		t.Fatal("a cluster node with plain routes started without -team-routes-plain")
	} else if !strings.Contains(err.Error(), "-team-routes-plain") || !strings.Contains(err.Error(), "-cert") {
		t.Errorf("the refusal does not say what to do: %v", err)
	}
	cfg.RoutesPlain = true
	s, err := Start(cfg, keys)
	if err != nil {
		t.Fatal(err)
	}
	s.Shutdown()
}
