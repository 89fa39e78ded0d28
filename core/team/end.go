package team

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Ending a session of another station (docs/TEAM.md, "Ending a session
// from another station"). The request is a KV key
//
//	end.<owner station>.<session>.<requesting station>
//
// and not a NATS request/reply, because the owner may be offline: the key
// waits in the bucket until the owner reads it (its watch sees every key,
// also those written while it was away). The requester's id is the last
// token, and the hub lets a station publish only keys ending in its own id,
// so the owner knows who asked without trusting the value; the owner may
// delete the requests addressed to it (when done), nothing else.

// EndRequestTTL bounds how long a request waits for an owner that never
// comes back: a session lasts at most 24 hours, so by then it has ended by
// itself at its station.
const EndRequestTTL = 25 * time.Hour

// EndRequest asks the owning station to end one of its sessions.
type EndRequest struct {
	Owner      string    `json:"-"` // the station that runs the session
	Session    string    `json:"-"` // its key there
	From       string    `json:"-"` // the asking station (from the key, not the value)
	Technician string    `json:"technician"`
	PreparedBy string    `json:"prepared_by"` // who prepared it, as the asking station saw it
	At         time.Time `json:"at"`

	rev uint64
}

// Notices between stations — end requests ("end") and takeover notices
// ("took") — are keys KIND.<owner>.<session>.<asker>: the hub lets a
// station write only those naming itself as the asker, and delete only
// those addressed to it.
func noticeKey(kind, owner, session, asker string) string {
	return kind + "." + owner + "." + session + "." + asker
}

// parseNoticeKey splits KIND.<owner>.<session>.<asker>.
func parseNoticeKey(kind, key string) (owner, session, asker string, ok bool) {
	parts := strings.Split(key, ".")
	if len(parts) != 4 || parts[0] != kind {
		return "", "", "", false
	}
	return parts[1], parts[2], parts[3], true
}

// doneNotice deletes a notice addressed to this station once it was acted
// on, at the revision it was read.
func (c *Client) doneNotice(ctx context.Context, key string, rev uint64) error {
	kv, err := c.store()
	if err != nil {
		return err
	}
	err = kv.Delete(ctx, key, jetstream.LastRevision(rev))
	if isConflict(err) {
		return nil // written again meanwhile: the watch hands the new one over
	}
	return err
}

// RequestEnd asks station owner to end its session: the request is written
// to the team's bucket and stays until the owner acts on it (or the session
// ends there, or EndRequestTTL). ownerOnline says whether the owner's
// presence was live in this station's view: when not, it acts when it next
// connects. A request already waiting is not an error.
func (c *Client) RequestEnd(ctx context.Context, owner, session, technician, preparedBy string) (ownerOnline bool, err error) {
	if c.Revoked() {
		return false, ErrRevoked
	}
	if !validToken(owner) || !validToken(session) {
		return false, errors.New("the session's station or id is not a valid team name")
	}
	if !c.Connected() {
		return false, ErrEndUnreachable
	}
	b, err := json.Marshal(EndRequest{Technician: technician, PreparedBy: preparedBy, At: time.Now().UTC()})
	if err != nil {
		return false, err
	}
	kv, err := c.store()
	if err != nil {
		return false, ErrEndUnreachable
	}
	if _, err := kv.Create(ctx, noticeKey("end", owner, session, c.cfg.StationID), b, jetstream.KeyTTL(EndRequestTTL)); err != nil && !isConflict(err) {
		if c.Revoked() {
			return false, ErrRevoked
		}
		return false, err
	}
	c.mu.Lock()
	ownerOnline = c.view.stations[owner]
	c.mu.Unlock()
	return ownerOnline, nil
}

// DoneEnd deletes a request addressed to this station once it was acted on
// (or its session was no longer open), at the revision it was read.
func (c *Client) DoneEnd(ctx context.Context, r EndRequest) error {
	return c.doneNotice(ctx, noticeKey("end", r.Owner, r.Session, r.From), r.rev)
}

// endRequest reads a put of an end key addressed to this station.
func (c *Client) endRequest(e jetstream.KeyValueEntry) (EndRequest, bool) {
	if e.Operation() != jetstream.KeyValuePut {
		return EndRequest{}, false
	}
	owner, session, from, ok := parseNoticeKey("end", e.Key())
	if !ok || owner != c.cfg.StationID {
		return EndRequest{}, false
	}
	var r EndRequest
	_ = json.Unmarshal(e.Value(), &r) // the key alone is a valid request
	r.Owner, r.Session, r.From, r.rev = owner, session, from, e.Revision()
	return r, true
}

// validToken: a subject token a station id or session key may be.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
