package team

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The hub's own buckets: the relay state the nodes of a cluster share
// (docs/HUB.md "Cluster"). Only the hub's in-process admin user uses them;
// a station's user JWT allows no subject of theirs (userPermissions names
// only its team's bucket), so no station can read a credential hash or
// write a record.
const (
	// StationsBucket holds one record per enrolled station ("st.ID"):
	// credential hash, public key, team, NATS keys, revocation.
	StationsBucket = "hub_stations"
	// CodesBucket holds the one-time enrolment codes ("code.HASH": expiry
	// and team) and their redemptions ("used.HASH", made with Create: the
	// node whose Create succeeds owns the code).
	CodesBucket = "hub_codes"
	// WhereBucket says which node holds each station's control connection
	// (key: the station id; value: that node's URL), a lease renewed while
	// the connection lasts.
	WhereBucket = "hub_where"
	// TakeoversBucket holds the takeovers of the whole cluster (key: the
	// owner and session, value: the taking station and the takeover's
	// end), each a lease renewed by the node holding the taker's control
	// connection, so none outlives that connection anywhere.
	TakeoversBucket = "hub_takeovers"
)

// HubBuckets are the hub's own buckets, opened by Server.HubBuckets.
type HubBuckets struct {
	Stations, Codes, Where, Takeovers jetstream.KeyValue
}

// HubBuckets makes (or opens) the hub's own buckets with the node's
// replicas: codes and their redemptions are kept codeLife, a station's
// location leaseTTL after its last renewal. In a cluster this fails until
// the nodes elected a JetStream leader; the caller tries again. A takeover
// lives leaseTTL after its last renewal, as a station's location.
func (s *Server) HubBuckets(ctx context.Context, codeLife, leaseTTL time.Duration) (*HubBuckets, error) {
	mk := func(name, desc string, ttl time.Duration) (jetstream.KeyValue, error) {
		cfg := jetstream.KeyValueConfig{
			Bucket:      name,
			Description: desc,
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    s.cfg.Replicas,
			TTL:         ttl,
		}
		if ttl > 0 {
			// Watchers see an expiry as a delete, not silence.
			cfg.LimitMarkerTTL = max(ttl, time.Minute)
		}
		kv, err := s.js.CreateOrUpdateKeyValue(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("the hub bucket %s could not be made: %w", name, err)
		}
		return kv, nil
	}
	var b HubBuckets
	var err error
	if b.Stations, err = mk(StationsBucket, "adhoc hub: enrolled stations", 0); err != nil {
		return nil, err
	}
	if b.Codes, err = mk(CodesBucket, "adhoc hub: enrolment codes", codeLife); err != nil {
		return nil, err
	}
	if b.Where, err = mk(WhereBucket, "adhoc hub: which node holds each station", leaseTTL); err != nil {
		return nil, err
	}
	if b.Takeovers, err = mk(TakeoversBucket, "adhoc hub: which station took over which session", leaseTTL); err != nil {
		return nil, err
	}
	return &b, nil
}

// NodeName is this node's name (Config.Name).
func (s *Server) NodeName() string { return s.cfg.Name }

// NodeMAC is an HMAC of msg under a key every node of the cluster derives
// from the shared keys.json (never the route password itself): a node
// forwarding a relay to another proves with it that it is a node, so the
// other trusts the PC's address it passes on.
func (s *Server) NodeMAC(msg string) []byte {
	k := hmac.New(sha256.New, []byte(s.keys.f.RouteSecret))
	k.Write([]byte("adhoc-hub node forwarding v1"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(msg))
	return m.Sum(nil)
}
