package team

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"adhocstation/core/refusal"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Taking over a session of another station (docs/TEAM.md, "Take over"):
// when a technician at station B connects to a PC whose session station A
// owns, B writes the key
//
//	took.<owner>.<session>.<taker>
//
// A's watch hands it over (also one written while A was offline), A records
// it in its own audit, drops its live channel to that PC (so the PC redials
// and the hub hands it to B) and deletes the key. The taker is the last
// token, as for end.: the hub lets a station write only took keys ending in
// its own id and delete only those addressed to it, so the owner knows who
// took over without trusting the value.

// TakeoverTTL: a notice to an owner that never comes back goes within the
// 24-hour life of a session, with an hour to spare.
const TakeoverTTL = 25 * time.Hour

// ErrTakeoverUnreachable: the notice needs the team server.
var ErrTakeoverUnreachable = refusal.New("team_took_unreachable", "The team server at the hub is unreachable, so the station that owns this session could not be told that this station connected to its PC. Try again when the hub answers.")

// TakeoverNotice tells the owner that another station connected to a PC of
// one of its sessions.
type TakeoverNotice struct {
	Owner      string    `json:"-"` // the station that runs the session
	Session    string    `json:"-"` // its key there
	Taker      string    `json:"-"` // the station that connected (from the key, not the value)
	Technician string    `json:"technician"`
	Computer   string    `json:"computer"`
	At         time.Time `json:"at"`

	rev uint64
}

// AnnounceTakeover tells station owner that this station connected to the
// PC of its session, for technician (computer: the PC's name as listed).
// It is a Put of this station's own key with TakeoverTTL, so a later
// connect to the same session announces again.
func (c *Client) AnnounceTakeover(ctx context.Context, owner, session, technician, computer string) error {
	if c.Revoked() {
		return ErrRevoked
	}
	if !validToken(owner) || !validToken(session) {
		return errors.New("the session's station or id is not a valid team name")
	}
	if owner == c.cfg.StationID {
		return errors.New("a station does not take over its own session")
	}
	if _, err := c.store(); err != nil {
		return ErrTakeoverUnreachable
	}
	b, err := json.Marshal(TakeoverNotice{Technician: technician, Computer: computer, At: time.Now().UTC()})
	if err != nil {
		return err
	}
	// KV Put has no per-key TTL; a publish to the key's subject with one is
	// the same write (as a lease renewal).
	_, err = c.js.PublishMsg(ctx, &nats.Msg{Subject: c.subject(noticeKey("took", owner, session, c.cfg.StationID)), Data: b},
		jetstream.WithMsgTTL(TakeoverTTL))
	if err != nil {
		if c.Revoked() {
			return ErrRevoked
		}
		if !c.nc.IsConnected() {
			return ErrTakeoverUnreachable
		}
		return err
	}
	return nil
}

// DoneTakeover deletes a notice addressed to this station once acted on, at
// the revision it was read.
func (c *Client) DoneTakeover(ctx context.Context, n TakeoverNotice) error {
	return c.doneNotice(ctx, noticeKey("took", n.Owner, n.Session, n.Taker), n.rev)
}

// takeoverNotice reads a put of a took key addressed to this station.
func (c *Client) takeoverNotice(e jetstream.KeyValueEntry) (TakeoverNotice, bool) {
	if e.Operation() != jetstream.KeyValuePut {
		return TakeoverNotice{}, false
	}
	owner, session, taker, ok := parseNoticeKey("took", e.Key())
	if !ok || owner != c.cfg.StationID || !validToken(session) || !validToken(taker) {
		return TakeoverNotice{}, false
	}
	var n TakeoverNotice
	_ = json.Unmarshal(e.Value(), &n) // the key alone is a valid notice
	n.Owner, n.Session, n.Taker, n.rev = owner, session, taker, e.Revision()
	n.Technician, n.Computer = cleanName(n.Technician), cleanName(n.Computer)
	return n, true
}
