package support

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"adhocstation/core/wire"
)

// Pairing API paths below wire.APIPrefix.
const (
	PathPair      = "pair"
	PathConfirm   = "confirm"
	PathHeartbeat = "heartbeat"
	PathEnd       = "end"
	PathCleanup   = "cleanup"
)

// ErrWrongStation means the server did not present the station's pinned
// public key: someone may be impersonating it, so nothing is sent.
var ErrWrongStation = errors.New("the server did not prove it is your technician's station (its certificate does not match the one this app was made for)")

// ErrNotOwner means a station of the technician's team, not the station
// that paired the PC, answered: it holds the PC's connection for a moment
// (a take over, docs/TEAM.md). It comes inside an *OfflineError: the app
// tries again later, as when its station is offline, and never ends the
// session on such an answer.
var ErrNotOwner = errors.New("another station of your technician's team holds this PC's connection for a moment; the app tries your technician's own station again shortly")

// OfflineError means the station could not be reached (network, timeout,
// or an answer that is not the pairing API).
type OfflineError struct{ Err error }

func (e *OfflineError) Error() string { return "cannot reach the station: " + e.Err.Error() }
func (e *OfflineError) Unwrap() error { return e.Err }

// Client calls the station's pairing API over HTTPS, trusting only the
// pinned public keys.
type Client struct {
	base       string
	stationURL string
	pins       []string
	http       *http.Client
	host       string      // HOST:PORT of the station, for the live channel
	tls        *tls.Config // pinned, as the API calls
	// hub, when set, carries every connection to the station (hub.go).
	hub *hubDialer
	// owner holds the raw SHA-256 pins of the station that paired the PC;
	// team those of the other stations of its team, as the owner last
	// listed them (SetTeamPins). Both pass the TLS check; only the
	// owner's answers are believed.
	owner    map[string]bool
	mu       sync.Mutex
	team     map[string]bool
	teamList []string
	tr       *http.Transport
}

// NewClient returns a client for stationURL (https://HOST:PORT) that accepts
// only a certificate whose public key hashes to one of pins.
func NewClient(stationURL string, pins []string) (*Client, error) {
	return NewClientVia(stationURL, pins, nil)
}

// NewClientVia is NewClient reaching the station through the relay hub
// when hub is not nil: the same pinned TLS then runs inside the hub's
// relay, end to end with the station.
func NewClientVia(stationURL string, pins []string, hub *Hub) (*Client, error) {
	u, err := url.Parse(stationURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("the station address %q in this app is not an https address; download the app again from the invitation", stationURL)
	}
	owner := map[string]bool{}
	for _, p := range pins {
		if raw, ok := decodePin(p); ok {
			owner[string(raw)] = true
		}
	}
	if len(owner) == 0 || len(owner) > 2 {
		return nil, errors.New("this app carries no valid station certificate pin; download it again from the invitation")
	}
	c := &Client{base: strings.TrimRight(stationURL, "/") + wire.APIPrefix, stationURL: stationURL, pins: pins,
		host: u.Host, owner: owner}
	c.tls = &tls.Config{
		MinVersion: tls.VersionTLS13,
		// InsecureSkipVerify only turns off the system-root chain check, which
		// a self-signed station certificate cannot pass; VerifyConnection below
		// is the real check: the leaf's public key must match a pin, the
		// owner's or one of its team's.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if c.peer(cs) == peerNone {
				return ErrWrongStation
			}
			return nil
		},
	}
	c.tr = &http.Transport{TLSClientConfig: c.tls, ForceAttemptHTTP2: false, Proxy: http.ProxyFromEnvironment,
		TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: 20 * time.Second}
	c.http = &http.Client{Transport: c.tr, Timeout: 30 * time.Second}
	if hub != nil {
		if c.hub, err = newHubDialer(*hub); err != nil {
			return nil, err
		}
		// The hub's own proxy is the hub dialer's; the pinned TLS runs in
		// the relay, so the transport dials nothing itself.
		c.tr.Proxy = nil
		c.tr.DialTLSContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.dialStation(ctx, []string{"http/1.1"})
		}
	}
	return c, nil
}

// Pair sends the security code and the PC's facts. Refusals come back as
// *wire.Error; ErrWrongStation and *OfflineError as they are.
func (c *Client) Pair(ctx context.Context, req wire.PairRequest) (wire.PairResponse, error) {
	var out wire.PairResponse
	err := c.call(ctx, PathPair, req, &out)
	return out, err
}

// Agent sends one of the later calls (confirm, heartbeat, end, cleanup).
func (c *Client) Agent(ctx context.Context, path, agentKey, detail string) (wire.StatusResponse, error) {
	var out wire.StatusResponse
	err := c.call(ctx, path, wire.AgentRequest{AgentKey: agentKey, Detail: detail}, &out)
	return out, err
}

func (c *Client) call(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, ErrWrongStation) {
			return ErrWrongStation
		}
		if w, ok := refusal(err); ok {
			return w // the hub's: the session has ended
		}
		return &OfflineError{Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return &OfflineError{Err: err}
	}
	if resp.TLS == nil || c.peer(*resp.TLS) != peerOwner {
		// A teammate's station holds the PC for a moment: whatever it
		// answers (503 not_owner, by the contract) is not the owner's
		// word, so the call is tried again later.
		return &OfflineError{Err: fmt.Errorf("%w (it answered HTTP %d)", ErrNotOwner, resp.StatusCode)}
	}
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(data, out); err != nil {
			return &OfflineError{Err: fmt.Errorf("unreadable answer from the station: %w", err)}
		}
		return nil
	}
	var werr wire.Error
	if json.Unmarshal(data, &werr) != nil || werr.Code == "" {
		return &OfflineError{Err: fmt.Errorf("the station answered HTTP %d", resp.StatusCode)}
	}
	if werr.Code == wire.CodeNotOwner {
		return &OfflineError{Err: fmt.Errorf("%w (%s)", ErrNotOwner, werr.Message)}
	}
	if werr.Code == wire.CodeRateLimited && werr.RetryAfterSeconds == 0 {
		werr.RetryAfterSeconds, _ = strconv.Atoi(resp.Header.Get("Retry-After"))
	}
	return &werr
}

// refusal returns the station's refusal code, or "".
func refusal(err error) (*wire.Error, bool) {
	var w *wire.Error
	ok := errors.As(err, &w)
	return w, ok
}
