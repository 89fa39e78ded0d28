package hublink_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"

	"adhocstation/core/hublink"
	"adhocstation/hub/hubtest"
)

func stationCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "station"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

type hubStation struct {
	id   string
	key  ed25519.PrivateKey
	link *hublink.Link
}

// joinTeam enrols a station of team teamID at h and keeps its link up.
func joinTeam(t *testing.T, h *hubtest.Hub, teamID string) hubStation {
	t.Helper()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	res, err := hublink.Join(context.Background(), h.Client, h.URL, h.TeamCode(teamID), "desk", pub)
	if err != nil {
		t.Fatal(err)
	}
	up := make(chan struct{}, 1)
	l := &hublink.Link{Hub: h.URL, Credential: res.Credential, Client: h.Client, OnState: func(ok bool, _ error) {
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
	return hubStation{id: res.StationID, key: key, link: l}
}

// layers is what ControlOf finds at each wrapper the station puts around
// an accepted stream: the stream itself, Deadlines, the TLS server.
type layers struct {
	raw, deadlines, tls hublink.ControlMessage
	ok                  [3]bool
	err                 error
}

// acceptOne takes one relay on st's link and looks through its layers.
func acceptOne(t *testing.T, st hubStation) chan layers {
	got := make(chan layers, 1)
	cert := stationCert(t)
	go func() {
		var l layers
		c, err := st.link.Accept()
		if err != nil {
			l.err = err
			got <- l
			return
		}
		d := hublink.Deadlines(c)
		tc := tls.Server(d, &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}})
		defer tc.Close()
		l.raw, l.ok[0] = hublink.ControlOf(c)
		l.deadlines, l.ok[1] = hublink.ControlOf(d)
		l.err = tc.Handshake()
		l.tls, l.ok[2] = hublink.ControlOf(tc)
		got <- l
	}()
	return got
}

// relay dials a relay for tok as the app does and completes its TLS.
func relay(t *testing.T, h *hubtest.Hub, tok string) net.Conn {
	t.Helper()
	raw, err := hublink.DialRelay(context.Background(), h.Client, h.URL, tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := hublink.ControlOf(raw); ok {
		t.Error("the app's own relay has a control message")
	}
	tc := tls.Client(raw, &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true})
	t.Cleanup(func() { tc.Close() })
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	return tc
}

func checkLayers(t *testing.T, l layers, want hublink.ControlMessage) {
	t.Helper()
	if l.err != nil {
		t.Fatalf("station: %v", l.err)
	}
	for i, m := range []hublink.ControlMessage{l.raw, l.deadlines, l.tls} {
		name := []string{"the accepted stream", "Deadlines", "the *tls.Conn"}[i]
		if m.RelayID == "" || m.Client == "" {
			t.Errorf("%s: %+v has no relay id or client", name, m)
		}
		m.RelayID, m.Client = "", ""
		if !l.ok[i] || m != want {
			t.Errorf("through %s: %+v, %v; want %+v", name, m, l.ok[i], want)
		}
	}
}

// TestControlOfThroughDeadlinesAndTLS: a relayed stream from Link.Accept
// carries the hub's message, and ControlOf finds it through Deadlines and
// the station's *tls.Conn: an ordinary relay without Owner, a relay of a
// session taken over (Link.Takeover) with the owner's id. Takeover's
// refusal reads as a *HubError.
func TestControlOfThroughDeadlinesAndTLS(t *testing.T) {
	h := hubtest.Start(t, nil)
	a, b := joinTeam(t, h, "acme"), joinTeam(t, h, "acme")
	tok := hublink.SignToken(a.key, hublink.Claims{Station: a.id, Session: "17", Exp: time.Now().Add(time.Hour).Unix()})

	got := acceptOne(t, a)
	relay(t, h, tok)
	checkLayers(t, <-got, hublink.ControlMessage{Type: "accept", Session: "17"})

	ctx := context.Background()
	if err := b.link.Takeover(ctx, a.id, "17", false); err != nil {
		t.Fatalf("Takeover: %v", err)
	}
	got = acceptOne(t, b)
	relay(t, h, tok)
	checkLayers(t, <-got, hublink.ControlMessage{Type: "accept", Session: "17", Owner: a.id})
	if err := b.link.Takeover(ctx, a.id, "17", true); err != nil {
		t.Fatalf("release: %v", err)
	}

	loner := joinTeam(t, h, "")
	err := loner.link.Takeover(ctx, a.id, "17", false)
	var he *hublink.HubError
	if !errors.As(err, &he) || he.Status != 403 || he.Code != "not_same_team" || he.Message == "" {
		t.Fatalf("a station of no team: %#v, want a 403 not_same_team HubError", err)
	}
}

// selfConn's NetConn is itself: ControlOf must not loop.
type selfConn struct{ net.Conn }

func (c selfConn) NetConn() net.Conn { return c }

// TestControlOfDirect: streams that did not come from the hub have none,
// whatever their wrappers.
func TestControlOfDirect(t *testing.T) {
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	for name, c := range map[string]net.Conn{
		"pipe": c1, "Deadlines": hublink.Deadlines(c2), "tls": tls.Server(c1, &tls.Config{}),
		"self wrapper": selfConn{c1}, "nil": nil,
	} {
		if m, ok := hublink.ControlOf(c); ok || m != (hublink.ControlMessage{}) {
			t.Errorf("%s: %+v, %v; want none", name, m, ok)
		}
	}
}
