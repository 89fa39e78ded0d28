package team

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"
)

// The stations of the team: each one's presence key station.<ID> holds its
// name and its certificate's pin, so the others can name it and its PCs
// can accept it when it takes over a session (docs/TEAM.md).

// Member is a station of the team as this station knows it.
type Member struct {
	Name   string `json:"name,omitempty"` // as enrolled (its host name); "" when it never said
	Pin    string `json:"pin,omitempty"`  // base64 SHA-256 of its certificate's public key
	Online bool   `json:"-"`              // its presence lease is live now
}

// presence is the value of station.<ID>.
type presence struct {
	Station string `json:"station"`
	Name    string `json:"name,omitempty"`
	Pin     string `json:"pin,omitempty"`
}

// maxNameLen bounds a station's name as shown (the hub takes a host name).
const maxNameLen = 64

func (c *Client) presenceValue() []byte {
	c.mu.Lock()
	p := presence{Station: c.cfg.StationID, Name: cleanName(c.cfg.Name)}
	if ValidPin(c.cfg.Pin) {
		p.Pin = c.cfg.Pin
	}
	c.mu.Unlock()
	b, _ := json.Marshal(p)
	return b
}

// SetPin changes the pin in this station's presence (its served certificate
// changed): the other stations see it at the lease's next renewal, which
// this starts now.
func (c *Client) SetPin(pin string) {
	c.opMu.Lock() // the presence lease's value is read under it (refresh)
	c.mu.Lock()
	same := c.cfg.Pin == pin
	c.cfg.Pin = pin
	c.mu.Unlock()
	if !same {
		v := c.presenceValue()
		c.mu.Lock()
		if c.presence != nil {
			c.presence.value = v
		}
		c.mu.Unlock()
	}
	c.opMu.Unlock()
	if !same {
		c.kick()
	}
}

// ValidPin: the base64 (standard, padded) SHA-256 a PC pins. Another
// station's pin goes into a header of the live channel's answer, so nothing
// else (a comma, a line break) may pass.
func ValidPin(pin string) bool {
	if len(pin) != 44 {
		return false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(pin)
	return err == nil && len(b) == 32
}

// cleanName keeps a name printable and short: it is shown on the Computers
// page and written to the audit.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	for len(s) > maxNameLen {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

// seeMember records a station's presence (under mu). A station whose lease
// ran out stays known, offline; one the hub revoked (its key revoked.<ID>,
// written by the hub only) is forgotten, also when it was given in
// Config.KnownMembers, and a presence of it read later (a watch that
// starts over replays the bucket) does not bring it back: its pin must
// leave this station's PCs.
func (c *Client) seeMember(e jetstream.KeyValueEntry) {
	if id, ok := strings.CutPrefix(e.Key(), revokedPrefix); ok {
		// Only a put marks: the hub never lifts a revocation (the id is
		// refused for good), so a marker that goes changes nothing here.
		if validToken(id) && e.Operation() == jetstream.KeyValuePut && id != c.cfg.StationID {
			c.revokedIDs[id] = true
			delete(c.members, id)
		}
		return
	}
	id, ok := strings.CutPrefix(e.Key(), "station.")
	if !ok || !validToken(id) || e.Operation() != jetstream.KeyValuePut || c.revokedIDs[id] {
		return
	}
	var p presence
	_ = json.Unmarshal(e.Value(), &p) // an older station's value has no name nor pin
	m := c.members[id]
	if n := cleanName(p.Name); n != "" {
		m.Name = n
	}
	if ValidPin(p.Pin) {
		m.Pin = p.Pin
	}
	c.members[id] = m
}

// revokedPrefix starts the hub's mark of a revoked station (hub/team's
// RevokedPrefix; that package is the hub's, not imported here).
const revokedPrefix = "revoked."

// Stations are the team's stations this station knows, by hub id, this one
// included: those seen online in this run or given in Config.KnownMembers,
// with their names and pins, and whether they are online now; never one the
// hub revoked.
func (c *Client) Stations() map[string]Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]Member, len(c.members)+1)
	for id, m := range c.members {
		m.Online = c.view.stations[id] // members holds no revoked id (seeMember)
		out[id] = m
	}
	self := Member{Name: cleanName(c.cfg.Name), Online: c.view.stations[c.cfg.StationID]}
	if ValidPin(c.cfg.Pin) {
		self.Pin = c.cfg.Pin
	}
	out[c.cfg.StationID] = self
	return out
}
