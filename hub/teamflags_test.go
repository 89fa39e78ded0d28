package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTeamFlags: -team-listen starts the team node with its teams, and the
// keys it made are kept 0600 in the hub's state folder.
func TestTeamFlags(t *testing.T) {
	state := t.TempDir()
	fs := flag.NewFlagSet("adhoc-hub", flag.ContinueOnError)
	f := addTeamFlags(fs)
	if err := fs.Parse([]string{"-team-listen", "127.0.0.1:-1", "-teams", "acme=5,branch=2"}); err != nil {
		t.Fatal(err)
	}
	_, stop, err := startTeam(f, state, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	stop()
	st, err := os.Stat(filepath.Join(state, "team", "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("keys.json is %v, want 0600", st.Mode().Perm())
	}
	fs = flag.NewFlagSet("adhoc-hub", flag.ContinueOnError)
	f = addTeamFlags(fs)
	if err := fs.Parse([]string{"-team-listen", "127.0.0.1:-1", "-teams", "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := startTeam(f, state, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, ""); err == nil {
		t.Fatal("-teams acme (no seat count) was accepted")
	}
}

// TestHubNodeFlags: -hub-node-url needs the team server and an https URL;
// the nodes check each other's certificate for the hub's name (-hub-node-name,
// -acme-domain, or the certificate's first DNS name), never for the
// node's address.
func TestHubNodeFlags(t *testing.T) {
	err := run([]string{"-state", t.TempDir(), "-listen", "127.0.0.1:0", "-hub-node-url", "https://10.0.0.1:443"})
	if err == nil || !strings.Contains(err.Error(), "needs the team server") {
		t.Fatalf("-hub-node-url without -team-listen: %v", err)
	}
	parse := func(args ...string) teamFlags {
		fs := flag.NewFlagSet("adhoc-hub", flag.ContinueOnError)
		f := addTeamFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, u := range []string{"http://10.0.0.1:443", "10.0.0.1:443", "https://10.0.0.1/x"} {
		if _, err := parse("-hub-node-url", u).clusterConfig("hub.test", &tls.Config{}); err == nil {
			t.Errorf("-hub-node-url %q was accepted", u)
		}
	}
	noName := selfSignedFor(t)
	if _, err := parse("-hub-node-url", "https://10.0.0.1:443").clusterConfig("", &tls.Config{Certificates: []tls.Certificate{noName}}); err == nil {
		t.Error("a certificate without a DNS name and no -hub-node-name was accepted")
	}
	for _, c := range []struct {
		args   []string
		domain string
		want   string
	}{
		{[]string{"-hub-node-url", "https://10.0.0.1:443"}, "hub.example.org", "hub.example.org"},
		{[]string{"-hub-node-url", "https://10.0.0.1:443", "-hub-node-name", "relay.example.org"}, "", "relay.example.org"},
		{[]string{"-hub-node-url", "https://10.0.0.1:443/"}, "", "hub.test"},
	} {
		cfg := &tls.Config{}
		if c.domain == "" {
			cfg.Certificates = []tls.Certificate{selfSignedFor(t, "hub.test")}
		}
		cc, err := parse(c.args...).clusterConfig(c.domain, cfg)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if got := cc.NodeClient.Transport.(*http.Transport).TLSClientConfig.ServerName; got != c.want {
			t.Errorf("%v: the nodes check %q, want %q", c.args, got, c.want)
		}
	}
}

func selfSignedFor(t *testing.T, names ...string) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestTeamRouteFlags: a cluster node's routes use TLS with the hub's
// certificate (its route port presents it for the hub's name); without a
// certificate the node refuses to start unless -team-routes-plain says the
// routes are plain on purpose, and then the port speaks plain NATS.
func TestTeamRouteFlags(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func(cfg *tls.Config, args ...string) (clusterAddr string, stop func(), err error) {
		fs := flag.NewFlagSet("adhoc-hub", flag.ContinueOnError)
		f := addTeamFlags(fs)
		args = append([]string{"-team-listen", "127.0.0.1:-1", "-team-cluster", "127.0.0.1:-1",
			"-team-routes", "nats-route://127.0.0.1:1"}, args...)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		srv, stop, err := startTeam(f, t.TempDir(), logger, cfg, "")
		if err != nil {
			return "", nil, err
		}
		return srv.NATS().ClusterAddr().String(), stop, nil
	}
	if _, _, err := start(nil); err == nil || !strings.Contains(err.Error(), "-team-routes-plain") {
		t.Fatalf("a cluster node without a certificate started with plain routes, or said nothing of -team-routes-plain: %v", err)
	}

	cert := selfSignedFor(t, "hub.test")
	addr, stop, err := start(&tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "hub.test", RootCAs: roots, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatalf("the route port does not speak TLS with the hub's certificate: %v", err)
	}
	c.Close()

	addr, stopPlain, err := start(nil, "-team-routes-plain")
	if err != nil {
		t.Fatal(err)
	}
	defer stopPlain()
	pc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	info, err := bufio.NewReader(pc).ReadString('\n')
	if err != nil || !strings.HasPrefix(info, "INFO ") {
		t.Fatalf("the plain route port said %q, %v", info, err)
	}
}
