// Package hubtest runs a real relay hub (hub/hubsrv) on 127.0.0.1 for
// the station's and the app's tests, with a self-signed certificate the
// returned client trusts. It builds without cgo, like the hub.
package hubtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"adhocstation/hub/hubsrv"
	"adhocstation/hub/team"
)

// Hub is a running hub.
type Hub struct {
	t      testing.TB
	Dir    string       // its state folder
	Addr   string       // 127.0.0.1:PORT
	URL    string       // https://127.0.0.1:PORT
	Client *http.Client // trusts the hub's certificate
	Srv    *hubsrv.Server
	cfg    *tls.Config
	clock  func() time.Time
	stop   func()
	// Team is the hub's team server (StartTeam); nil: none.
	Team *team.Server
}

// Start runs a hub judging expiry by clock (nil: time.Now) until the test ends.
func Start(t testing.TB, clock func() time.Time) *Hub {
	t.Helper()
	if clock == nil {
		clock = time.Now
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hub"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	h := &Hub{t: t, Dir: filepath.Join(t.TempDir(), "state"), cfg: hubsrv.TLSConfig(cert), clock: clock,
		Client: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13}}}}
	t.Cleanup(h.Client.CloseIdleConnections)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.Addr, h.URL = ln.Addr().String(), "https://"+ln.Addr().String()
	h.serve(ln)
	return h
}

// serve runs a hub on ln from the state folder, as a (re)started adhoc-hub.
func (h *Hub) serve(ln net.Listener) {
	srv, err := hubsrv.New(h.Dir, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	srv.SetClock(h.clock)
	if h.Team != nil {
		srv.SetTeam(h.Team, nil)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln, h.cfg) }()
	var once sync.Once
	h.Srv = srv
	h.stop = func() { once.Do(func() { cancel(); <-served }) }
	h.t.Cleanup(h.stop)
}

// Stop stops the hub; its connections close with it.
func (h *Hub) Stop() { h.stop() }

// Restart stops the hub and starts it again on the same address and
// state; it returns when the new one listens.
func (h *Hub) Restart() time.Time {
	h.stop()
	ln, err := net.Listen("tcp", h.Addr)
	if err != nil {
		h.t.Fatal(err)
	}
	h.serve(ln)
	return time.Now()
}

// Code is a one-time enrolment code, as adhoc-hub enrol prints.
func (h *Hub) Code() string {
	code, err := hubsrv.NewCode(h.Dir, time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return code
}

// StartTeam runs the hub's team server (embedded NATS JetStream, TLS with
// the hub's certificate, a free port) with the given teams and seats, as
// adhoc-hub -team-listen -teams does, until the test ends.
func (h *Hub) StartTeam(teams map[string]int) *team.Server {
	h.t.Helper()
	keys, err := team.LoadOrCreateKeys(h.Dir)
	if err != nil {
		h.t.Fatal(err)
	}
	ts, err := team.Start(team.Config{StateDir: h.Dir, Name: "hub", Host: "127.0.0.1", Port: -1, Replicas: 1, TLS: h.cfg}, keys)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(ts.Shutdown)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ts.WaitJetStream(ctx); err != nil {
		h.t.Fatal(err)
	}
	for id, seats := range teams {
		if err := ts.EnsureTeam(ctx, id, seats); err != nil {
			h.t.Fatal(err)
		}
	}
	h.Team = ts
	h.Srv.SetTeam(ts, nil)
	return ts
}

// TeamCode is a one-time enrolment code for a station of team teamID, as
// adhoc-hub enrol -team prints.
func (h *Hub) TeamCode(teamID string) string {
	code, err := hubsrv.NewTeamCode(h.Dir, time.Now(), teamID)
	if err != nil {
		h.t.Fatal(err)
	}
	return code
}
