package team_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"adhocstation/core/team"
	hubteam "adhocstation/hub/team"

	"github.com/nats-io/nkeys"
)

// selfSigned makes a certificate for 127.0.0.1 and hub.test (the name a
// cluster's routes check) and a pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hub.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"hub.test"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestTLSOnly: with the hub's certificate the team listener speaks TLS only
// (stations cross the internet to it); a station that trusts it works, one
// that does not, or asks for no TLS, is refused.
func TestTLSOnly(t *testing.T) {
	cert, pool := selfSigned(t)
	dir := t.TempDir()
	keys, err := hubteam.LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := hubteam.Start(hubteam.Config{StateDir: dir, Port: -1,
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13, NextProtos: []string{"http/1.1"}}}, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	if err := srv.EnsureTeam(ctx10(t), teamID, 2); err != nil {
		t.Fatal(err)
	}
	m := joinTLS(t, srv, []string{srv.ClientURL()}, "desk", 30*time.Second, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13})
	if err := m.Prepare(ctx10(t), "s1", team.ProfileKey("a@example.org"), "A"); err != nil {
		t.Fatal(err)
	}
	if !m.NATS().TLSRequired() {
		t.Fatal("the connection is not TLS")
	}
	for name, cfg := range map[string]*tls.Config{"untrusted": {MinVersion: tls.VersionTLS13}, "plain": nil} {
		kp, _ := nkeys.CreateUser()
		seed, _ := kp.Seed()
		upub, _ := kp.PublicKey()
		c, err := team.Open(ctx10(t), team.Config{URLs: []string{srv.ClientURL()}, TeamID: teamID, StationID: "other", UserSeed: seed, TLS: cfg,
			JWT: func() (string, error) { return srv.IssueUser(teamID, "other", upub, time.Hour) }})
		if err == nil {
			c.Close()
			t.Errorf("a %s station connected", name)
		}
	}
}
