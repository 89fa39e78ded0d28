package support

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"adhocstation/core/hublink"
	"adhocstation/core/wire"
)

// Hub names the relay hub the app reaches its station through
// (docs/HUB.md): the app dials wss://HUB/relay/TOKEN and runs its pinned
// TLS 1.3 inside, so the hub carries ciphertext only.
type Hub struct {
	URL   string // https://HOST[:PORT]
	Token string // the relay token the station signed
	// HTTPClient dials the hub; its TLS checks the hub's certificate
	// (system roots). Nil: a client whose transport uses Proxy. Its
	// Timeout must be 0 (the dial's context bounds it).
	HTTPClient *http.Client
	// Proxy chooses the proxy for the hub when HTTPClient is nil (nil:
	// hublink.ProxyFromEnvironment); the PC's WinHTTP/IE settings come in
	// here (agent/netproxy).
	Proxy func(*http.Request) (*url.URL, error)
}

// hubDialer opens relays; the token changes once, at pairing.
type hubDialer struct {
	url    string
	client *http.Client
	mu     sync.Mutex
	token  string
}

func newHubDialer(h Hub) (*hubDialer, error) {
	u, err := url.Parse(h.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" || strings.Trim(u.Path, "/") != "" || h.Token == "" {
		return nil, fmt.Errorf("the hub address %q or its token in this app cannot be used; download the app again from the invitation", h.URL)
	}
	client := h.HTTPClient
	if client == nil {
		proxy := h.Proxy
		if proxy == nil {
			proxy = hublink.ProxyFromEnvironment
		}
		client = &http.Client{Transport: &http.Transport{Proxy: proxy, TLSHandshakeTimeout: 10 * time.Second,
			ResponseHeaderTimeout: 20 * time.Second, ForceAttemptHTTP2: false}}
	}
	return &hubDialer{url: "https://" + u.Host, client: client, token: h.Token}, nil
}

// SetRelayToken replaces the relay token, with the one the pair answer
// gives (its exp is the session's exact end). No-op without a hub.
func (c *Client) SetRelayToken(tok string) {
	if c.hub == nil || tok == "" {
		return
	}
	c.hub.mu.Lock()
	c.hub.token = tok
	c.hub.mu.Unlock()
}

// hubURL and relayToken are "" without a hub.
func (c *Client) hubURL() string {
	if c.hub == nil {
		return ""
	}
	return c.hub.url
}

func (c *Client) relayToken() string {
	if c.hub == nil {
		return ""
	}
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	return c.hub.token
}

// dialStation opens a pinned TLS connection to the station: directly, or
// through the hub's relay. A hub's refusal of a session past its end is a
// *wire.Error with CodeSessionEnded; its other refusals (station offline,
// no answer, hub full) are errors to retry on.
func (c *Client) dialStation(ctx context.Context, protos []string) (net.Conn, error) {
	cfg := c.tls.Clone()
	cfg.NextProtos = protos
	host := c.host
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "443")
	}
	if c.hub == nil {
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second, KeepAlive: -1}, Config: cfg}
		return d.DialContext(ctx, "tcp", host)
	}
	raw, err := hublink.DialRelay(ctx, c.hub.client, c.hub.url, c.relayToken())
	if err != nil {
		var he *hublink.HubError
		if errors.As(err, &he) && he.Code == wire.CodeSessionEnded {
			return nil, &wire.Error{Code: wire.CodeSessionEnded, Message: he.Message}
		}
		return nil, fmt.Errorf("through the hub %s: %w", c.hub.url, err)
	}
	if h, _, err := net.SplitHostPort(host); err == nil && net.ParseIP(h) == nil {
		cfg.ServerName = h // SNI as a direct dial sends it
	}
	raw = hublink.Deadlines(raw) // deadlines as on TCP: the channel's upgrade sets and clears one
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return tc, nil
}
