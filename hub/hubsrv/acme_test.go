package hubsrv_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"adhocstation/core/hublink"
	"adhocstation/hub/hubsrv"
	"adhocstation/hub/team"

	"golang.org/x/crypto/acme"
)

// freeAddr is a 127.0.0.1 port for a child that takes its address from a file.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// dialRetry dials addr, retrying only while the child that logged it is
// still binding: Pebble logs "Listening on" just before it listens.
func dialRetry(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	for i := 0; ; i++ {
		c, err := d.DialContext(ctx, network, addr)
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || i == 100 {
			return c, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func writeFile(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// startPebble builds Pebble v2.10.3 (outside this module's go.mod, so the
// station's module graph stays its own) and runs it on 127.0.0.1.
func startPebble(t *testing.T) (dir string, client *http.Client, roots *x509.CertPool) {
	t.Helper()
	tmp := t.TempDir()
	build := exec.Command("go", "install", "github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.3")
	build.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("Pebble could not be built here (offline module cache?): %v\n%s", err, out)
	}
	_, certPEM, keyPEM := selfSigned(t, "pebble")
	writeFile(t, filepath.Join(tmp, "cert.pem"), certPEM)
	writeFile(t, filepath.Join(tmp, "key.pem"), keyPEM)
	acmeAddr, mgmtAddr := freeAddr(t), freeAddr(t)
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress": acmeAddr, "managementListenAddress": mgmtAddr,
		"certificate": filepath.Join(tmp, "cert.pem"), "privateKey": filepath.Join(tmp, "key.pem"),
		"httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "", "externalAccountBindingRequired": false,
	}}
	b, _ := json.Marshal(cfg)
	writeFile(t, filepath.Join(tmp, "pebble.json"), b)
	cmd := exec.Command(filepath.Join(tmp, "pebble"), "-config", filepath.Join(tmp, "pebble.json"))
	cmd.Env = append(os.Environ(), "PEBBLE_VA_ALWAYS_VALID=1", "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Listening on: ") {
			break
		}
	}
	go io.Copy(io.Discard, out)

	own := x509.NewCertPool()
	own.AppendCertsFromPEM(certPEM)
	client = &http.Client{Transport: &http.Transport{DialContext: dialRetry, TLSClientConfig: &tls.Config{RootCAs: own}}}
	t.Cleanup(client.CloseIdleConnections)
	resp, err := client.Get("https://" + mgmtAddr + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	rootPEM, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	roots = x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("Pebble's root could not be read: %q", rootPEM)
	}
	return "https://" + acmeAddr + "/dir", client, roots
}

// TestACMEPebble: the hub gets its certificate for hub.test from Pebble and
// a station enrols over it trusting only Pebble's root.
func TestACMEPebble(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Pebble")
	}
	dirURL, pebbleClient, roots := startPebble(t)
	state := t.TempDir()
	srv, err := hubsrv.New(state, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := hubsrv.ACME(state, "hub.test", dirURL, "", &acme.Client{HTTPClient: pebbleClient})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln, hubsrv.ACMEConfig(m)) }()
	t.Cleanup(func() { cancel(); <-served })

	// The station's dialer maps hub.test to the hub on 127.0.0.1.
	hubAddr := ln.Addr().String()
	station := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr != "hub.test:443" {
				return nil, errors.New("test dialer: only hub.test")
			}
			var d net.Dialer
			return d.DialContext(ctx, network, hubAddr)
		},
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13},
	}}
	t.Cleanup(station.CloseIdleConnections)
	code, err := hubsrv.NewCode(state, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := genKey(t)
	res, err := hublink.Join(context.Background(), station, "https://hub.test", code, "desk", pub)
	if err != nil {
		t.Fatalf("enrol over the ACME certificate: %v", err)
	}
	if res.Credential == "" {
		t.Fatal("no credential")
	}
	// The served certificate names hub.test and chains to Pebble's root.
	conn, err := tls.DialWithDialer(&net.Dialer{}, "tcp", hubAddr, &tls.Config{ServerName: "hub.test", RootCAs: roots})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.ConnectionState().PeerCertificates[0].VerifyHostname("hub.test"); err != nil {
		t.Fatal(err)
	}
	// A cluster's team routes present that same certificate when they dial
	// (docs/TEAM.md "Cluster"), not another one ordered for them.
	rt := team.RouteTLS(hubsrv.ACMEConfig(m), "hub.test", roots)
	rc, err := rt.GetClientCertificate(&tls.CertificateRequestInfo{Version: tls.VersionTLS13,
		SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256, tls.PSSWithSHA256, tls.Ed25519}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rc.Certificate[0], conn.ConnectionState().PeerCertificates[0].Raw) {
		t.Error("the team routes would present another certificate than the hub's")
	}

	// The join page comes from the hub in that certificate: a browser
	// trusting only Pebble's root (as a real one trusts Let's Encrypt's)
	// gets the station's page with no warning.
	up := make(chan struct{}, 1)
	l := &hublink.Link{Hub: "https://hub.test", Credential: res.Credential, Client: station, OnState: func(ok bool, _ error) {
		if ok {
			select {
			case up <- struct{}{}:
			default:
			}
		}
	}}
	ran := make(chan struct{})
	go func() { l.Run(context.Background()); close(ran) }()
	t.Cleanup(func() { l.Close(); <-ran })
	<-up
	stationWeb(t, l, make(chan struct{}))
	resp, err := station.Get("https://hub.test" + hublink.PathStation + res.StationID + "/join/TOKEN")
	if err != nil {
		t.Fatalf("join page over the ACME certificate: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<h1>Join TOKEN</h1>") {
		t.Fatalf("join page: %d %q", resp.StatusCode, body)
	}
	chains := resp.TLS.VerifiedChains
	if len(chains) == 0 || len(chains[0]) < 2 {
		t.Fatalf("join page's certificate chains: %v", chains)
	}
	root := chains[0][len(chains[0])-1]
	if _, err := root.Verify(x509.VerifyOptions{Roots: roots}); err != nil || root.Subject.String() == chains[0][0].Subject.String() {
		t.Fatalf("the join page's chain ends at %s, not Pebble's root: %v", root.Subject, err)
	}
}
