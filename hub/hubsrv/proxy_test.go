package hubsrv_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"adhocstation/agent/netproxy"
	"adhocstation/core/hublink"
)

// TestStationHonoursHTTPSProxy: with HTTPS_PROXY set, the station's
// default hub client (hublink.NewClient) enrols, holds its control
// connection, takes relays and serves the join page through the CONNECT
// proxy; NO_PROXY takes the hub off it. The hub is named hub.test (Go
// never proxies loopback addresses), which only the proxy resolves.
func TestStationHonoursHTTPSProxy(t *testing.T) {
	h := startHub(t)
	paddr, tunnels := connectProxy(t, "hub.test:443", h.addr)
	t.Setenv("HTTPS_PROXY", "http://"+paddr)
	t.Setenv("https_proxy", "")
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	c := hublink.NewClient(h.client.Transport.(*http.Transport).TLSClientConfig)
	t.Cleanup(c.CloseIdleConnections)
	h.client, h.url = c, "https://hub.test"
	st := h.enrol(t)
	l := h.link(t, st)
	stationWeb(t, l, make(chan struct{}))
	code, body := getPage(t, c, h.url+hublink.PathStation+st.id+"/join/T")
	if code != 200 || !strings.Contains(body, "Join T") {
		t.Fatalf("join page through the proxy: %d %q", code, body)
	}
	echoOneRelay(t, l, func(ctx context.Context, tok string) (net.Conn, error) {
		return hublink.DialRelay(ctx, c, h.url, tok)
	}, st)
	// enrol, control, the page's stream, the browser's page, the relay's two sides
	if n := tunnels(); n < 5 {
		t.Fatalf("%d CONNECT tunnels, want at least 5", n)
	}
	t.Setenv("NO_PROXY", "hub.test")
	req, _ := http.NewRequest("GET", "https://hub.test/", nil)
	if p, err := hublink.ProxyFromEnvironment(req); p != nil || err != nil {
		t.Fatalf("NO_PROXY=hub.test still proxied: %v %v", p, err)
	}
}

// echoOneRelay has the station echo one relayed connection and checks a
// round trip inside the pinned TLS through the relay dial opens.
func echoOneRelay(t *testing.T, l *hublink.Link, dial func(context.Context, string) (net.Conn, error), st testStation) {
	t.Helper()
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
	raw, err := dial(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(raw, pinnedClient(pin(stationCert.Certificate[0])))
	if _, err := tc.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(tc, got); err != nil || string(got) != "ping" {
		t.Fatalf("echo through the relay: %q %v", got, err)
	}
	tc.Close()
	<-done
}

// TestAppDialsHubThroughPCProxy: the app's hub dial, with its proxy from
// agent/netproxy deciding on the PC's recorded WinHTTP answers (a manual
// proxy in the user's Internet Options), goes through a real CONNECT
// proxy to the hub, and the pinned TLS inside reaches the station.
func TestAppDialsHubThroughPCProxy(t *testing.T) {
	h := startHub(t)
	paddr, tunnels := connectProxy(t, "hub.test:443", h.addr)
	st := h.enrol(t)
	l := h.link(t, st) // the station dials the hub directly
	pc := pcSettings{proxy: paddr}
	app := &http.Client{Transport: &http.Transport{
		Proxy: func(r *http.Request) (*url.URL, error) {
			d := netproxy.Resolve(pc, nil, r.URL)
			if d.Source != "user" {
				t.Errorf("the proxy came from %q (%v), want the user's settings", d.Source, d.Notes)
			}
			return d.Proxy, nil
		},
		TLSClientConfig: h.client.Transport.(*http.Transport).TLSClientConfig,
	}}
	t.Cleanup(app.CloseIdleConnections)
	echoOneRelay(t, l, func(ctx context.Context, tok string) (net.Conn, error) {
		return hublink.DialRelay(ctx, app, "https://hub.test", tok)
	}, st)
	if n := tunnels(); n != 1 {
		t.Fatalf("%d CONNECT tunnels, want the app's one", n)
	}
}

// pcSettings is a PC's WinHTTP answers: the signed-in user set a manual
// proxy in Internet Options.
type pcSettings struct{ proxy string }

func (p pcSettings) UserIE() (netproxy.IEConfig, error) {
	return netproxy.IEConfig{Proxy: p.proxy, Bypass: "<local>"}, nil
}
func (pcSettings) Machine() (netproxy.ProxyInfo, error) {
	return netproxy.ProxyInfo{AccessType: netproxy.AccessNoProxy}, nil
}
func (pcSettings) AutoProxy(string, string, bool) (netproxy.ProxyInfo, error) {
	return netproxy.ProxyInfo{}, nil
}
