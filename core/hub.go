package core

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"adhocstation/core/hublink"
	"adhocstation/core/refusal"
)

// The relay hub (docs/HUB.md): a station that has joined one is reached by
// PCs anywhere through it. Its whole configuration — the hub's address, the
// station's id and credential there, and the Ed25519 key that signs relay
// tokens — is one JSON value sealed with the station key in the secrets
// table, so the credential and the key are never on disk in plain text and
// no half of it can be stored without the other.
const secretHub = "hub"

// HubConfig is what may be shown of the hub configuration: never the
// credential or the key.
type HubConfig struct {
	URL       string    // https://HOST[:PORT]
	StationID string    // the station's id on the hub, in links: URL/st/ID/...
	JoinedAt  time.Time // UTC
}

// hubSealed is the sealed value.
type hubSealed struct {
	URL        string    `json:"url"`
	StationID  string    `json:"station_id"`
	Credential string    `json:"credential"`
	Seed       []byte    `json:"seed"` // ed25519 private key seed
	JoinedAt   time.Time `json:"joined_at"`
}

// HubAccess is what the pairing service needs to keep the station's link to
// the hub: the credential is a password for the hub; keep it in memory only.
type HubAccess struct {
	HubConfig
	Credential string
}

// Refusals of the hub configuration.
var (
	ErrHubURL       = refusal.New("hub_url", "The hub address must be an https address without a path, e.g. https://hub.example.org. Check the address the hub's administrator gave you.")
	ErrHubCode      = refusal.New("hub_code", "Enter the one-time enrolment code the hub's administrator printed with adhoc-hub enrol.")
	ErrHubNotJoined = refusal.New("hub_not_joined", "This station has not joined a hub, so PCs reach it directly. Join one with adhoc-station hub join https://HUB CODE.")
)

// ParseHubURL checks and normalises a hub address: https, a host, an
// optional port, no path, query or credentials.
func ParseHubURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", ErrHubURL
	}
	return "https://" + strings.ToLower(u.Host), nil
}

// HubHost is a hub address without its scheme (HOST[:PORT]), as sentences
// name it.
func HubHost(hubURL string) string { return strings.TrimPrefix(hubURL, "https://") }

// HubHTTPClient is the client the station reaches hubs with: system roots,
// HTTPS_PROXY honoured, read at each dial (hublink.NewClient; it never
// proxies loopback).
func HubHTTPClient() *http.Client { return hublink.NewClient(nil) }

// JoinHub redeems an enrolment code on the hub at hubURL with a new
// Ed25519 key and stores the answer sealed, replacing any earlier hub. A
// nil client means HubHTTPClient. It publishes EventSettings, so a running
// pairing service starts its link at once. Refusals: the address or code
// is malformed, the hub cannot be reached or refused the code.
func (s *Station) JoinHub(ctx context.Context, client *http.Client, hubURL, code string) (HubConfig, error) {
	hubURL, err := ParseHubURL(hubURL)
	if err != nil {
		return HubConfig{}, err
	}
	code = strings.TrimSpace(code)
	if code == "" || len(code) > 200 {
		return HubConfig{}, ErrHubCode
	}
	if client == nil {
		client = HubHTTPClient()
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return HubConfig{}, err
	}
	name, _ := os.Hostname()
	resp, err := hublink.Join(ctx, client, hubURL, code, name, pub)
	if err != nil {
		var he *hublink.HubError
		if errors.As(err, &he) {
			return HubConfig{}, Errorf("hub_refused", "The hub %s refused to enrol this station: %s Ask its administrator for a new code (adhoc-hub enrol).", hubURL, he.Message)
		}
		return HubConfig{}, Errorf("hub_unreachable", "The hub %s could not be reached (%w). Check the address, this computer's internet connection and HTTPS_PROXY, then try again.", hubURL, err)
	}
	id, _, ok := strings.Cut(resp.Credential, ".")
	if !ok || id != resp.StationID || id == "" {
		return HubConfig{}, Errorf("hub_answer", "The hub %s gave an answer this station cannot use. Check that it runs the same version as this station.", hubURL)
	}
	hs := hubSealed{URL: hubURL, StationID: resp.StationID, Credential: resp.Credential, Seed: priv.Seed(), JoinedAt: s.now()}
	plain, _ := json.Marshal(hs)
	sealed, err := s.keys.sealWith(plain, []byte(secretHub))
	if err != nil {
		return HubConfig{}, err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO secrets (name, sealed) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed`, secretHub, sealed); err != nil {
			return err
		}
		return s.audit(tx, 0, 0, "hub joined", "enrolled at "+hubURL+" as station "+resp.StationID+"; credential and signing key sealed in the station database")
	})
	if err != nil {
		return HubConfig{}, err
	}
	s.publish(Event{Kind: EventSettings})
	return hs.public(), nil
}

func (h hubSealed) public() HubConfig {
	return HubConfig{URL: h.URL, StationID: h.StationID, JoinedAt: h.JoinedAt}
}

// LeaveHub forgets the hub: PCs prepared from now on reach the station
// directly. While sessions paired through the hub are open, or prepared
// sessions whose invitation link leads to it wait, it refuses
// (ErrHubSessionsOpen, naming them): their app, or their link, was made
// for the hub and would be stranded; EndHubSessions ends and cancels them
// first. It publishes
// EventSettings. Refusals: ErrHubNotJoined, ErrHubSessionsOpen.
func (s *Station) LeaveHub(ctx context.Context) error {
	cfg, ok, err := s.Hub(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return ErrHubNotJoined
	}
	stranded := false
	err = s.write(ctx, func(tx *sql.Tx) error {
		// Counted in the leave's transaction: a PC pairing through the
		// hub, or an invitation prepared through it, meanwhile is either
		// counted or comes after the leave.
		n, err := s.countHubSessions(ctx, tx, cfg.URL)
		if stranded = n > 0; err != nil || stranded {
			return err
		}
		// Leaving the hub leaves its team too.
		if _, err := tx.ExecContext(ctx, `DELETE FROM secrets WHERE name IN (?, ?)`, secretHub, secretTeam); err != nil {
			return err
		}
		return s.audit(tx, 0, 0, "hub left", "no longer enrolled at "+cfg.URL+" as station "+cfg.StationID+"; PCs are reached directly")
	})
	if err != nil {
		return err
	}
	if stranded {
		open, err := s.HubSessions(ctx)
		if err != nil {
			return err
		}
		waiting, err := s.HubInvitations(ctx)
		if err != nil {
			return err
		}
		return hubSessionsRefusal(cfg.URL, open, waiting)
	}
	s.publish(Event{Kind: EventSettings})
	return nil
}

// Hub returns the hub configuration, and false when none is stored.
func (s *Station) Hub(ctx context.Context) (HubConfig, bool, error) {
	h, ok, err := s.hubSealed(ctx)
	return h.public(), ok, err
}

// HubAccess returns the configuration with the credential, for the
// pairing service's link; false when no hub is configured.
func (s *Station) HubAccess(ctx context.Context) (HubAccess, bool, error) {
	h, ok, err := s.hubSealed(ctx)
	return HubAccess{HubConfig: h.public(), Credential: h.Credential}, ok, err
}

func (s *Station) hubSealed(ctx context.Context) (hubSealed, bool, error) {
	var h hubSealed
	var sealed []byte
	err := s.rdb.QueryRowContext(ctx, `SELECT sealed FROM secrets WHERE name = ?`, secretHub).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return h, false, nil
	}
	if err != nil {
		return h, false, err
	}
	plain, err := s.keys.unsealWith(sealed, []byte(secretHub))
	if err != nil || json.Unmarshal(plain, &h) != nil || len(h.Seed) != ed25519.SeedSize {
		return hubSealed{}, false, Errorf("hub_sealed", "The stored hub configuration cannot be unsealed (was the station key replaced?). Leave the hub and join it again with a new code.")
	}
	return h, true, nil
}

// HubRelay is what a PC's app needs to reach this station through its hub.
type HubRelay struct {
	URL   string // the hub, https://HOST[:PORT]
	Token string // signed relay token (hublink.SignToken)
}

// RelayToken signs a relay token for session id valid until exp; false
// when no hub is configured.
func (s *Station) RelayToken(ctx context.Context, sessionID int64, exp time.Time) (HubRelay, bool, error) {
	h, ok, err := s.hubSealed(ctx)
	if !ok || err != nil {
		return HubRelay{}, false, err
	}
	tok := hublink.SignToken(ed25519.NewKeyFromSeed(h.Seed), hublink.Claims{
		Station: h.StationID, Session: strconv.FormatInt(sessionID, 10), Exp: exp.Unix()})
	return HubRelay{URL: h.URL, Token: tok}, true, nil
}

// hubLinkPrefix is where links point when a hub is configured: the hub
// forwards URL/st/ID/... to the station over its control connection.
func (h HubConfig) linkPrefix() string { return h.URL + "/st/" + h.StationID }

// joinLink is the deployment link for token: through the hub when one is
// configured (a hub that cannot be read leaves the direct link).
func (s *Station) joinLink(ctx context.Context, p PairingSettings, token string) string {
	link, _ := s.inviteLink(ctx, p, token)
	return link
}

// inviteLink is joinLink and the hub it leads to ("" when direct), which
// an invitation records as the session's invite_hub.
func (s *Station) inviteLink(ctx context.Context, p PairingSettings, token string) (link, hubURL string) {
	if h, ok, err := s.Hub(ctx); err == nil && ok {
		return h.linkPrefix() + "/join/" + token, h.URL
	}
	return linkFor(p, token), ""
}
