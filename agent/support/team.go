package support

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"adhocstation/core/wire"
)

// Take over (docs/TEAM.md): the station that paired the PC (the owner)
// lists, on each live channel's 101 answer, the pins of the other stations
// of its team; one of them may then serve the PC's channel for a teammate.
// The PC accepts their certificates, but believes only the owner: only it
// may change the list, end the session, or answer the agent's calls.

// peerKind says which pins a TLS peer matched.
type peerKind int

const (
	peerNone peerKind = iota
	peerOwner
	peerTeam
)

// peer tells which of the pins the connection's certificate matches; the
// owner's come first, so a station listed in both counts as the owner.
func (c *Client) peer(cs tls.ConnectionState) peerKind {
	if len(cs.PeerCertificates) == 0 {
		return peerNone
	}
	sum := sha256.Sum256(cs.PeerCertificates[0].RawSubjectPublicKeyInfo)
	if c.owner[string(sum[:])] {
		return peerOwner
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.team[string(sum[:])] {
		return peerTeam
	}
	return peerNone
}

// connPeer is peer for a connection dialStation made.
func (c *Client) connPeer(conn any) peerKind {
	tc, ok := conn.(interface{ ConnectionState() tls.ConnectionState })
	if !ok {
		return peerNone
	}
	return c.peer(tc.ConnectionState())
}

func decodePin(p string) ([]byte, bool) {
	raw, err := base64.StdEncoding.DecodeString(p)
	return raw, err == nil && len(raw) == sha256.Size
}

// errBadTeamPins: the owner's list could not be read; the pins kept are
// left as they were.
var errBadTeamPins = errors.New("the station's list of its team's certificates cannot be read")

// checkTeamPins checks a list of team pins (from the owner's header or
// the session record): each a pin, at most wire.MaxTeamPins.
func checkTeamPins(pins []string) error {
	if len(pins) > wire.MaxTeamPins {
		return fmt.Errorf("%w: %d pins, at most %d", errBadTeamPins, len(pins), wire.MaxTeamPins)
	}
	for _, p := range pins {
		if _, ok := decodePin(p); !ok {
			return fmt.Errorf("%w: %.60q is not a pin", errBadTeamPins, p)
		}
	}
	return nil
}

// parseTeamPins reads the header's value; "" is no team.
func parseTeamPins(h string) ([]string, error) {
	var pins []string
	for p := range strings.SplitSeq(h, ",") {
		if p = strings.TrimSpace(p); p != "" {
			pins = append(pins, p)
		}
	}
	if err := checkTeamPins(pins); err != nil {
		return nil, err
	}
	return pins, nil
}

// SetTeamPins replaces the team's pins the TLS check accepts besides the
// owner's (nil: none). It reports whether the list changed; a list that
// is not valid changes nothing. Connections kept open for the API calls
// are dropped on a change, so none outlives a station's removal.
func (c *Client) SetTeamPins(pins []string) (bool, error) {
	if err := checkTeamPins(pins); err != nil {
		return false, err
	}
	team, list := map[string]bool{}, []string(nil)
	for _, p := range pins {
		raw, _ := decodePin(p)
		if c.owner[string(raw)] || team[string(raw)] {
			continue // the owner's own pin, or a repeat
		}
		team[string(raw)] = true
		list = append(list, p)
	}
	slices.Sort(list)
	c.mu.Lock()
	changed := !slices.Equal(list, c.teamList)
	c.team, c.teamList = team, list
	c.mu.Unlock()
	if changed {
		c.tr.CloseIdleConnections()
	}
	return changed, nil
}

// TeamPins returns the team's pins the client accepts now (sorted).
func (c *Client) TeamPins() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.teamList)
}
