package hubsrv_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"adhocstation/core/hublink"
	"adhocstation/hub/hubsrv"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// selfSigned makes a certificate for 127.0.0.1 and returns it with its PEM files' bytes.
func selfSigned(t testing.TB, cn string) (tls.Certificate, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost", "hub.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert, certPEM, keyPEM
}

func pin(der []byte) string {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return ""
	}
	h := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return fmt.Sprintf("%x", h)
}

// pinnedClient is the app's TLS as docs/PROTOCOL.md "Pinning" says.
func pinnedClient(want string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13, InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || pin(cs.PeerCertificates[0].Raw) != want {
				return errors.New("pin mismatch")
			}
			return nil
		},
	}
}

type testHub struct {
	srv    *hubsrv.Server
	dir    string
	url    string
	client *http.Client
	cert   tls.Certificate
	tls    *tls.Config
	addr   string
	stop   func()
}

// startHub runs the hub on 127.0.0.1:0 with a PEM pair loaded from files,
// as adhoc-hub -cert -key does.
func startHub(t testing.TB) *testHub {
	t.Helper()
	cert, certPEM, keyPEM := selfSigned(t, "hub")
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cf, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kf, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := tls.LoadX509KeyPair(cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	srv, err := hubsrv.New(state, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := serve(t, srv, ln, hubsrv.TLSConfig(loaded))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13}}}
	t.Cleanup(client.CloseIdleConnections)
	return &testHub{srv: srv, dir: state, url: "https://" + ln.Addr().String(), client: client, cert: cert, tls: hubsrv.TLSConfig(loaded), addr: ln.Addr().String(), stop: stop}
}

// serve runs srv on ln until the returned stop (or the test's end).
func serve(t testing.TB, srv *hubsrv.Server, ln net.Listener, cfg *tls.Config) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln, cfg) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-served; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

type testStation struct {
	id   string
	key  ed25519.PrivateKey
	cred string
}

func (h *testHub) enrol(t testing.TB) testStation {
	t.Helper()
	code, err := hubsrv.NewCode(h.dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	res, err := hublink.Join(context.Background(), h.client, h.url, code, "desk 1", pub)
	if err != nil {
		t.Fatal(err)
	}
	return testStation{id: res.StationID, key: key, cred: res.Credential}
}

// link starts the station's control connection and waits until it is up.
func (h *testHub) link(t testing.TB, st testStation) *hublink.Link {
	t.Helper()
	up := make(chan struct{}, 1)
	l := &hublink.Link{Hub: h.url, Credential: st.cred, Client: h.client, OnState: func(ok bool, err error) {
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
	return l
}

func genKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, key
}

func refusalCode(err error) string {
	var he *hublink.HubError
	if errors.As(err, &he) {
		return he.Code
	}
	return "not a refusal: " + fmt.Sprint(err)
}

func TestEnrolCodeIsOneTime(t *testing.T) {
	h := startHub(t)
	code, err := hubsrv.NewCode(h.dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	res, err := hublink.Join(context.Background(), h.client, h.url, code, "desk", pub)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Credential, res.StationID+".") {
		t.Fatalf("credential %q does not name station %q", res.Credential, res.StationID)
	}
	if _, err := hublink.Join(context.Background(), h.client, h.url, code, "desk", pub); refusalCode(err) != "bad_code" {
		t.Fatalf("second use of a code: %v", err)
	}
	// The hub keeps hashes only, in a 0600 file.
	fi, err := os.Stat(filepath.Join(h.dir, "stations.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("stations.json mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(filepath.Join(h.dir, "stations.json"))
	_, secret, _ := strings.Cut(res.Credential, ".")
	if bytes.Contains(b, []byte(secret)) {
		t.Fatal("the state file holds the credential's secret")
	}
	if codes, _ := os.ReadDir(filepath.Join(h.dir, "codes")); len(codes) != 0 {
		t.Fatalf("%d codes left after redeeming the only one", len(codes))
	}
	// An expired code is refused.
	old, err := hubsrv.NewCode(h.dir, time.Now().Add(-hubsrv.CodeLifetime-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hublink.Join(context.Background(), h.client, h.url, old, "desk", pub); refusalCode(err) != "bad_code" {
		t.Fatalf("expired code: %v", err)
	}
}

func TestControlWrongCredentialRefused(t *testing.T) {
	h := startHub(t)
	st := h.enrol(t)
	done := make(chan error, 1)
	l := &hublink.Link{Hub: h.url, Credential: st.id + ".wrong", Client: h.client, OnState: func(ok bool, err error) {
		if !ok {
			select {
			case done <- err:
			default:
			}
		}
	}}
	go l.Run(context.Background())
	defer l.Close()
	if err := <-done; refusalCode(err) != "bad_credential" {
		t.Fatalf("wrong credential: %v", err)
	}
}

// TestRelayTLSEndToEnd: the app's pinned TLS 1.3 runs inside the relay with
// the station: the app sees the station's key, never the hub's.
func TestRelayTLSEndToEnd(t *testing.T) {
	h := startHub(t)
	st := h.enrol(t)
	l := h.link(t, st)
	if !h.srv.Online(st.id) {
		t.Fatal("station not online after its control connection came up")
	}
	stationCert, _, _ := selfSigned(t, "station")
	var wg sync.WaitGroup
	stationSaw := make(chan error, 4)
	wg.Add(1)
	go func() { // the station: pairing's TLS server on relayed conns
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				tc := tls.Server(c, &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{stationCert}})
				if err := tc.Handshake(); err != nil {
					stationSaw <- err
					return
				}
				_, err := io.Copy(tc, tc) // echo until the app closes
				stationSaw <- err
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); wg.Wait() })

	tok := hublink.SignToken(st.key, hublink.Claims{Station: st.id, Session: "s1", Exp: time.Now().Add(time.Hour).Unix()})
	raw, err := hublink.DialRelay(context.Background(), h.client, h.url, tok)
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(raw, pinnedClient(pin(stationCert.Certificate[0])))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("pinned handshake through the hub: %v", err)
	}
	if v := tc.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Fatalf("TLS version %x", v)
	}
	msg := bytes.Repeat([]byte("ciphertext only "), 20000) // 320 KB: many relay buffers
	go tc.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(tc, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo through the hub: %v", err)
	}
	tc.Close() // the hub closes the station's side too
	if err := <-stationSaw; err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
		t.Logf("station side ended with %v", err)
	}

	// An app pinning the hub's key fails: the hub cannot stand in for the station.
	raw2, err := hublink.DialRelay(context.Background(), h.client, h.url, tok)
	if err != nil {
		t.Fatal(err)
	}
	defer raw2.Close()
	if err := tls.Client(raw2, pinnedClient(pin(h.cert.Certificate[0]))).Handshake(); err == nil {
		t.Fatal("a client pinning the hub's key completed a handshake: the hub terminated the station's TLS")
	}
	<-stationSaw
}

func TestRelayRefusals(t *testing.T) {
	h := startHub(t)
	st := h.enrol(t)
	good := hublink.Claims{Station: st.id, Session: "s1", Exp: time.Now().Add(time.Hour).Unix()}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)

	// Station enrolled but offline.
	if _, err := hublink.DialRelay(context.Background(), h.client, h.url, hublink.SignToken(st.key, good)); refusalCode(err) != "station_offline" {
		t.Fatalf("station offline: %v", err)
	} else {
		var he *hublink.HubError
		errors.As(err, &he)
		if !strings.Contains(he.Message, "station is offline") {
			t.Fatalf("offline message %q", he.Message)
		}
	}
	h.link(t, st)
	cases := []struct {
		name, token, code string
	}{
		{"expired", hublink.SignToken(st.key, hublink.Claims{Station: st.id, Session: "s1", Exp: time.Now().Add(-time.Second).Unix()}), "session_ended"},
		{"wrong signature", hublink.SignToken(otherKey, good), "bad_token"},
		{"unknown station", hublink.SignToken(st.key, hublink.Claims{Station: "nobody", Session: "s1", Exp: good.Exp}), "bad_token"},
		{"garbage", "not-a-token", "bad_token"},
	}
	for _, c := range cases {
		if _, err := hublink.DialRelay(context.Background(), h.client, h.url, c.token); refusalCode(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	// Expiry is the hub's own check: it holds at the session's end with the station up or down.
	h.srv.SetClock(func() time.Time { return time.Unix(good.Exp, 0) })
	if _, err := hublink.DialRelay(context.Background(), h.client, h.url, hublink.SignToken(st.key, good)); refusalCode(err) != "session_ended" {
		t.Fatalf("at the session's end: %v", err)
	}
}

// BenchmarkRelay: bytes from the app to the station inside the pinned TLS
// 1.3, through the hub and, for comparison, over direct loopback TCP.
func BenchmarkRelay(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		benchStream(b, ln.Accept, func() (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) })
	})
	b.Run("hub", func(b *testing.B) {
		h := startHub(b)
		st := h.enrol(b)
		l := h.link(b, st)
		tok := hublink.SignToken(st.key, hublink.Claims{Station: st.id, Session: "s", Exp: time.Now().Add(time.Hour).Unix()})
		benchStream(b, l.Accept, func() (net.Conn, error) {
			return hublink.DialRelay(context.Background(), h.client, h.url, tok)
		})
	})
}

func benchStream(b *testing.B, accept func() (net.Conn, error), dial func() (net.Conn, error)) {
	stationCert, _, _ := selfSigned(b, "station")
	read := make(chan int64, 1)
	go func() {
		c, err := accept()
		if err != nil {
			read <- -1
			return
		}
		defer c.Close()
		tc := tls.Server(c, &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{stationCert}})
		n, _ := io.Copy(io.Discard, tc)
		read <- n
	}()
	raw, err := dial()
	if err != nil {
		b.Fatal(err)
	}
	tc := tls.Client(raw, pinnedClient(pin(stationCert.Certificate[0])))
	if err := tc.Handshake(); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for range b.N {
		if _, err := tc.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	tc.Close()
	if n := <-read; n != int64(b.N)*int64(len(buf)) {
		b.Fatalf("the station read %d bytes of %d", n, b.N*len(buf))
	}
}

// TestRelayServesHTTPServer: the station's Link is a net.Listener, so an
// http.Server with the station's TLS (as core/pairing runs it) serves
// relayed apps unchanged: two apps at once, each with several requests
// (net/http reuses a relayed connection when it is back in its pool in time).
func TestRelayServesHTTPServer(t *testing.T) {
	h := startHub(t)
	st := h.enrol(t)
	l := h.link(t, st)
	stationCert, _, _ := selfSigned(t, "station")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/hello", func(w http.ResponseWriter, r *http.Request) {
		// The relayed connection's address is the app's, as the hub saw
		// it (the station's per-address limits count apps, not the hub).
		if !strings.HasPrefix(r.RemoteAddr, "127.0.0.1:") {
			http.Error(w, "relayed from "+r.RemoteAddr, http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "station here, session "+r.URL.Query().Get("s"))
	})
	hs := &http.Server{Handler: mux, TLSConfig: &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{stationCert}}}
	served := make(chan error, 1)
	go func() { served <- hs.ServeTLS(l, "", "") }()
	t.Cleanup(func() {
		hs.Close() // closes l too
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeTLS: %v", err)
		}
	})
	tok := hublink.SignToken(st.key, hublink.Claims{Station: st.id, Session: "s1", Exp: time.Now().Add(time.Hour).Unix()})
	app := func() *http.Client {
		c := &http.Client{Transport: &http.Transport{
			DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				raw, err := hublink.DialRelay(ctx, h.client, h.url, tok)
				if err != nil {
					return nil, err
				}
				tc := tls.Client(raw, pinnedClient(pin(stationCert.Certificate[0])))
				if err := tc.HandshakeContext(ctx); err != nil {
					raw.Close()
					return nil, err
				}
				return tc, nil
			},
		}}
		t.Cleanup(c.CloseIdleConnections)
		return c
	}
	get := func(c *http.Client, s string) error {
		resp, err := c.Get("https://station.invalid/api/v1/hello?s=" + s)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if string(b) != "station here, session "+s {
			return fmt.Errorf("answer %q", b)
		}
		return nil
	}
	a, b := app(), app()
	errs := make(chan error, 6)
	for i := range 3 {
		go func() { errs <- get(a, fmt.Sprint("a", i)) }()
		go func() { errs <- get(b, fmt.Sprint("b", i)) }()
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestHubRestart: a station whose hub stops sees it go, and is back on the
// restarted hub (same state, same address) after its first redial, 1 s.
func TestHubRestart(t *testing.T) {
	h := startHub(t)
	st := h.enrol(t)
	states := make(chan bool, 16)
	l := &hublink.Link{Hub: h.url, Credential: st.cred, Client: h.client, OnState: func(ok bool, err error) { states <- ok }}
	ran := make(chan struct{})
	go func() { l.Run(context.Background()); close(ran) }()
	t.Cleanup(func() { l.Close(); <-ran })
	if !<-states {
		t.Fatal("the first state was not connected")
	}
	h.stop()
	if <-states {
		t.Fatal("still connected after the hub stopped")
	}
	srv, err := hubsrv.New(h.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	serve(t, srv, ln, h.tls)
	for !<-states { // a redial may land before the new listener
	}
	t.Logf("station back on the restarted hub %v after it listened", time.Since(start).Round(time.Millisecond))
	if !srv.Online(st.id) {
		t.Fatal("the restarted hub does not count the station online")
	}
}

// connectProxy is a minimal HTTP CONNECT proxy on 127.0.0.1 that counts
// the tunnels it opened. alias maps names to addresses, as the proxy's DNS
// would ("hub.test:443", "127.0.0.1:PORT").
func connectProxy(t *testing.T, alias ...string) (addr string, tunnels func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		target := r.Host
		for i := 0; i+1 < len(alias); i += 2 {
			if alias[i] == target {
				target = alias[i+1]
			}
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		mu.Lock()
		n++
		mu.Unlock()
		go func() {
			io.Copy(up, brw) // what the client sent after CONNECT, buffered or not
			up.Close()
		}()
		io.Copy(c, up)
		c.Close()
	})}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String(), func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// TestThroughConnectProxy: enrolment, the control connection and a relay
// all pass through an HTTP CONNECT proxy, as behind an office proxy.
func TestThroughConnectProxy(t *testing.T) {
	h := startHub(t)
	paddr, tunnels := connectProxy(t)
	proxied := &http.Client{Transport: &http.Transport{
		Proxy:           http.ProxyURL(&url.URL{Scheme: "http", Host: paddr}),
		TLSClientConfig: h.client.Transport.(*http.Transport).TLSClientConfig,
	}}
	t.Cleanup(proxied.CloseIdleConnections)
	h.client = proxied // every call below: station and app
	st := h.enrol(t)
	l := h.link(t, st)
	stationCert, _, _ := selfSigned(t, "station")
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		tc := tls.Server(c, &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{stationCert}})
		_, err = io.Copy(tc, tc)
		done <- err
	}()
	tok := hublink.SignToken(st.key, hublink.Claims{Station: st.id, Session: "s1", Exp: time.Now().Add(time.Hour).Unix()})
	raw, err := hublink.DialRelay(context.Background(), proxied, h.url, tok)
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(raw, pinnedClient(pin(stationCert.Certificate[0])))
	if _, err := tc.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(tc, got); err != nil || string(got) != "ping" {
		t.Fatalf("echo through proxy and hub: %q %v", got, err)
	}
	tc.Close()
	<-done
	// enrol, control, the app's relay and the station's accept: at least 3
	// tunnels (enrol's may be reused by the next call).
	if n := tunnels(); n < 3 {
		t.Fatalf("%d CONNECT tunnels, want at least 3", n)
	}
}

// TestRelayLimits: apps waiting on a station that does not answer are
// capped per station, and relays in all per hub.
func TestRelayLimits(t *testing.T) {
	h := startHub(t)
	h.srv.SetLimits(2, 3)
	st := h.enrol(t)
	// A station that holds its control connection but never opens the data
	// connections: it only reads what the hub asks.
	ws, _, err := websocket.Dial(context.Background(), "wss"+strings.TrimPrefix(h.url, "https")+hublink.PathControl,
		&websocket.DialOptions{HTTPClient: h.client, HTTPHeader: http.Header{"Authorization": {"Bearer " + st.cred}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	var m hublink.ControlMessage
	if err := wsjson.Read(context.Background(), ws, &m); err != nil || m.Type != "hello" {
		t.Fatalf("hello: %+v %v", m, err)
	}
	tok := hublink.SignToken(st.key, hublink.Claims{Station: st.id, Session: "s1", Exp: time.Now().Add(time.Hour).Unix()})
	ctx, cancel := context.WithCancel(context.Background())
	waiters := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := hublink.DialRelay(ctx, h.client, h.url, tok)
			waiters <- err
		}()
	}
	for range 2 { // both apps are waiting once the hub has asked for both
		if err := wsjson.Read(context.Background(), ws, &m); err != nil || m.Type != "accept" {
			t.Fatalf("accept: %+v %v", m, err)
		}
	}
	if _, err := hublink.DialRelay(context.Background(), h.client, h.url, tok); refusalCode(err) != "too_many_relays" {
		t.Fatalf("third app waiting on one station: %v", err)
	}
	// A second station's app counts toward the hub's 3 relays.
	st2 := h.enrol(t)
	h.link(t, st2)
	tok2 := hublink.SignToken(st2.key, hublink.Claims{Station: st2.id, Session: "s2", Exp: time.Now().Add(time.Hour).Unix()})
	third, err := hublink.DialRelay(context.Background(), h.client, h.url, tok2)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if _, err := hublink.DialRelay(context.Background(), h.client, h.url, tok2); refusalCode(err) != "hub_full" {
		t.Fatalf("fourth relay on a hub of 3: %v", err)
	}
	cancel()
	for range 2 {
		<-waiters
	}
}

// TestRelayCutAtSessionEnd: a relay open at the session's end is closed by
// the hub then, with the station still up.
func TestRelayCutAtSessionEnd(t *testing.T) {
	h := startHub(t)
	st := h.enrol(t)
	l := h.link(t, st)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	// The hub's clock stands 50 ms before the session's end.
	h.srv.SetClock(func() time.Time { return exp.Add(-50 * time.Millisecond) })
	stationDone := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			stationDone <- err
			return
		}
		defer c.Close()
		_, err = io.Copy(io.Discard, c)
		stationDone <- err
	}()
	tok := hublink.SignToken(st.key, hublink.Claims{Station: st.id, Session: "s1", Exp: exp.Unix()})
	raw, err := hublink.DialRelay(context.Background(), h.client, h.url, tok)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	io.Copy(io.Discard, raw) // returns when the hub closes the app's side (EOF or a close error)
	<-stationDone            // both sides closed by the hub, nobody else closes them
}
