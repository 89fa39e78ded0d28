package pairing

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

func TestOwnCertificateKeptAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	clock := coretest.NewClock(coretest.Start)
	st := coretest.OpenWith(t, dir, clock, nil)
	e := startEnv(t, st, clock, Options{})
	pins := e.srv.Pins()
	if len(pins) != 1 || !e.srv.SelfSigned() {
		t.Fatalf("pins %v, self-signed %v", pins, e.srv.SelfSigned())
	}
	// The certificate too: the data folder is the owner's alone (issue 8).
	for _, name := range []string{KeyFile, CertFile} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v; want 0600", name, err, info.Mode().Perm())
		}
	}
	leaf := servedCert(t, e.srv.Addr().String())
	if leaf.PublicKeyAlgorithm != x509.ECDSA || leaf.PublicKey.(*ecdsa.PublicKey).Curve != elliptic.P256() {
		t.Errorf("key %v, want ECDSA P-256", leaf.PublicKeyAlgorithm)
	}
	host, _ := os.Hostname()
	for _, name := range []string{"localhost", "127.0.0.1", host} {
		if err := leaf.VerifyHostname(name); err != nil {
			t.Errorf("certificate does not name %s: %v", name, err)
		}
	}
	if Pin(leaf) != pins[0] {
		t.Error("the served certificate is not the pinned one")
	}

	e.srv.Close()
	st.Close()
	st2 := coretest.OpenWith(t, dir, clock, nil)
	e2 := startEnv(t, st2, clock, Options{})
	if !slices.Equal(e2.srv.Pins(), pins) {
		t.Errorf("pins changed across a restart: %v → %v; downloaded apps would refuse the station", pins, e2.srv.Pins())
	}
}

func TestTLS12Refused(t *testing.T) {
	e := newEnv(t)
	conn, err := tls.Dial("tcp", e.srv.Addr().String(), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12})
	if err == nil {
		conn.Close()
		t.Fatal("a TLS 1.2 handshake succeeded")
	}
}

func TestWrongPinRefusedByClient(t *testing.T) {
	e := newEnv(t)
	c := pinnedClient([]string{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, nil)
	if _, err := c.Get(e.srv.URL() + "/"); err == nil {
		t.Fatal("a client with another pin reached the station")
	}
}

// startSaved starts the service on the saved listen address (no override).
func startSaved(t *testing.T, st *core.Station, opts Options) *Server {
	t.Helper()
	opts.AgentExe = fakeExe
	srv, err := Start(t.Context(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func TestListenAddressAndCertificateFollowSettings(t *testing.T) {
	st, _ := coretest.Open(t)
	set, _ := st.Settings(t.Context())
	set.Pairing.ListenAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	if err := st.SaveSettings(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	reloaded := make(chan error, 8)
	srv := startSaved(t, st, Options{OnReload: func(err error) { reloaded <- err }})
	if srv.Addr().String() != set.Pairing.ListenAddr {
		t.Fatalf("listening on %s, want the saved %s", srv.Addr(), set.Pairing.ListenAddr)
	}
	ownPin := srv.Pins()[0]

	// A new port: the listener moves, the station keeps running.
	oldAddr := srv.Addr().String()
	set.Pairing.ListenAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	if err := st.SaveSettings(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	if err := coretest.Receive(t, reloaded, "the pairing service to reload after the save"); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if srv.Addr().String() != set.Pairing.ListenAddr {
		t.Fatalf("still on %s after moving to %s", srv.Addr(), set.Pairing.ListenAddr)
	}
	c := pinnedClient(srv.Pins(), nil)
	if r := doWith(t, c, "GET", srv.URL()+"/", "", nil); r.status != http.StatusNotFound {
		t.Fatalf("new address answers %d", r.status)
	}
	if conn, err := net.Dial("tcp", oldAddr); err == nil {
		conn.Close()
		t.Error("the old address still accepts connections")
	}

	// An organisation certificate: served to new connections, pinned first,
	// with the station's own key kept as the second pin.
	certFile, keyFile, orgLeaf := orgCertificate(t)
	set.Pairing.CertFile, set.Pairing.KeyFile = certFile, keyFile
	if err := st.SaveSettings(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	if err := coretest.Receive(t, reloaded, "the pairing service to reload after the save"); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if want := []string{Pin(orgLeaf), ownPin}; !slices.Equal(srv.Pins(), want) || srv.SelfSigned() {
		t.Fatalf("pins %v, want %v", srv.Pins(), want)
	}
	if got := servedCert(t, srv.Addr().String()); Pin(got) != Pin(orgLeaf) {
		t.Error("the organisation certificate is not served")
	}

	// A broken certificate file keeps the working one and says so.
	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	set.Pairing.PublicHost = "support.example.com" // any pairing change makes it reload
	if err := st.SaveSettings(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	if err := coretest.Receive(t, reloaded, "the pairing service to reload after the save"); err == nil {
		t.Fatal("a broken certificate was accepted")
	}
	if got := servedCert(t, srv.Addr().String()); Pin(got) != Pin(orgLeaf) {
		t.Error("the working certificate was dropped")
	}
}

func TestOwnCertificateNamesNewPublicHost(t *testing.T) {
	st, clock := coretest.Open(t)
	set, _ := st.Settings(t.Context())
	set.Pairing.PublicHost = "helpdesk.example.org"
	if err := st.SaveSettings(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, st, clock, Options{})
	if err := servedCert(t, e.srv.Addr().String()).VerifyHostname("helpdesk.example.org"); err != nil {
		t.Fatalf("the certificate does not name the public host: %v", err)
	}
}

func servedCert(t *testing.T, addr string) *x509.Certificate {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// orgCertificate writes a certificate and key as an organisation's CA would
// issue them (here self-made, which is all the station can tell apart).
func orgCertificate(t *testing.T) (certFile, keyFile string, leaf *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "support.example.com"},
		DNSNames: []string{"support.example.com"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "org.crt"), filepath.Join(dir, "org.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	leaf, _ = x509.ParseCertificate(der)
	return certFile, keyFile, leaf
}

func TestBrokenOrganisationCertificateFallsBackToOwn(t *testing.T) {
	st, clock := coretest.Open(t)
	certFile, keyFile, orgLeaf := orgCertificate(t)
	set, _ := st.Settings(t.Context())
	set.Pairing.CertFile, set.Pairing.KeyFile = certFile, keyFile
	if err := st.SaveSettings(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(certFile)
	os.WriteFile(certFile, []byte("damaged"), 0o600)
	reloaded := make(chan error, 4)
	e := startEnv(t, st, clock, Options{OnReload: func(err error) { reloaded <- err }})
	if !e.srv.SelfSigned() || len(e.srv.Pins()) != 1 {
		t.Fatalf("a damaged organisation certificate: self-signed %v, pins %v; want the station's own", e.srv.SelfSigned(), e.srv.Pins())
	}
	// Repaired and saved again (unchanged settings): now it is served.
	os.WriteFile(certFile, good, 0o600)
	if err := st.SaveSettings(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	if err := coretest.Receive(t, reloaded, "the pairing service to reload after the save"); err != nil {
		t.Fatal(err)
	}
	if e.srv.SelfSigned() || e.srv.Pins()[0] != Pin(orgLeaf) {
		t.Fatalf("the repaired certificate is not served: pins %v", e.srv.Pins())
	}
}

// A station whose own pairing key is damaged does not start serving
// without a certificate: Start says what is wrong and what to do, as a
// refusal the window can show as it is.
func TestDamagedOwnKeyRefusesToStart(t *testing.T) {
	st, _ := coretest.Open(t)
	if err := os.WriteFile(filepath.Join(st.DataDir(), KeyFile),
		[]byte("-----BEGIN EC PRIVATE KEY-----\nZGFtYWdlZA==\n-----END EC PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := Start(t.Context(), st, Options{ListenAddr: "127.0.0.1:0", AgentExe: fakeExe})
	if err == nil {
		srv.Close()
		t.Fatal("the pairing service started with a damaged key")
	}
	var r core.Refusal
	if !errors.As(err, &r) || r.RefusalCode() != "pairing_key_damaged" || !strings.Contains(err.Error(), "Delete it") {
		t.Fatalf("err = %v, want the damaged-key refusal", err)
	}
}

// A taken port is a refusal naming the address and the way out.
func TestTakenPortRefusesToStart(t *testing.T) {
	st, _ := coretest.Open(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv, err := Start(t.Context(), st, Options{ListenAddr: ln.Addr().String(), AgentExe: fakeExe})
	if err == nil {
		srv.Close()
		t.Fatal("the pairing service started on a taken port")
	}
	var r core.Refusal
	if !errors.As(err, &r) || r.RefusalCode() != "pairing_listen" || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("err = %v, want the taken-port refusal", err)
	}
}
