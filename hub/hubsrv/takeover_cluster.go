package hubsrv

// Takeovers in a cluster of hubs (docs/HUB.md "Take over", "Cluster of
// hubs"): the table of takeover.go is the whole cluster's. Each takeover
// is a key of the hub-only bucket team.TakeoversBucket, a lease renewed by
// the node holding the taker's control connection; every node watches the
// bucket into its table (Server.tk), routes relays by it (to the taker's
// node, forwarding as for any station) and cuts its own relays of a
// session whose route changed. A node alone (no team server) keeps the
// table in memory only, as before.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"adhocstation/core/hublink"

	"github.com/nats-io/nats.go/jetstream"
)

// tkRecord is a takeover's value in the bucket.
type tkRecord struct {
	Taker string    `json:"taker"`
	Until time.Time `json:"until"`
	Node  string    `json:"node,omitempty"` // the node that wrote it last (for the logs)
}

const takeoverKeyPrefix = "tk."

// Station ids and sessions are the stations' own strings: base64url (no
// padding) makes any of them a valid key part, and reversible, so a
// delete (which carries no value) names its takeover.
var tkEnc = base64.RawURLEncoding

func takeoverKVKey(k takeoverKey) string {
	return takeoverKeyPrefix + tkEnc.EncodeToString([]byte(k.owner)) + "." + tkEnc.EncodeToString([]byte(k.session))
}

func parseTakeoverKVKey(key string) (takeoverKey, bool) {
	rest, ok := strings.CutPrefix(key, takeoverKeyPrefix)
	if !ok {
		return takeoverKey{}, false
	}
	o, sess, ok := strings.Cut(rest, ".")
	if !ok {
		return takeoverKey{}, false
	}
	ob, err1 := tkEnc.DecodeString(o)
	sb, err2 := tkEnc.DecodeString(sess)
	if err1 != nil || err2 != nil || len(ob) == 0 || len(sb) == 0 {
		return takeoverKey{}, false
	}
	return takeoverKey{string(ob), string(sb)}, true
}

// takeoverStoreMsg: the cluster's shared store did not answer.
const takeoverStoreMsg = "The hub's nodes could not record this just now (their shared store did not answer): try again in a minute."

// takerOnlineLocked: station id holds a control connection at this node
// or, in a cluster, at another node believed alive. Call with s.mu held
// (it takes cl.mu after s.mu, the one order used).
func (s *Server) takerOnlineLocked(id string) bool {
	return s.online[id] != nil || (s.cl != nil && s.cl.holder(id) != "")
}

// takeoversKV is the takeovers' bucket (nil until RunCluster opened it).
func (cl *cluster) takeoversKV() jetstream.KeyValue {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.b == nil {
		return nil
	}
	return cl.b.Takeovers
}

// seeTakeover takes a takeover's change from the bucket's watch into this
// node's table, and cuts this node's relays of that session that now go
// to the other station.
func (s *Server) seeTakeover(cl *cluster, e jetstream.KeyValueEntry) {
	k, ok := parseTakeoverKVKey(e.Key())
	if !ok {
		return
	}
	var rec tkRecord
	put := e.Operation() == jetstream.KeyValuePut
	if put {
		if err := json.Unmarshal(e.Value(), &rec); err != nil || rec.Taker == "" {
			s.log.Warn("cluster: a takeover record could not be read", "owner", k.owner, "session", k.session, "err", err)
			return
		}
	}
	s.mu.Lock()
	old := s.tk.byKey[k]
	if old != nil && old.rev > e.Revision() {
		s.mu.Unlock() // this node wrote a newer one already
		return
	}
	if put {
		if s.tk.byKey == nil {
			s.tk.byKey = map[takeoverKey]*takeover{}
		}
		s.tk.byKey[k] = &takeover{taker: rec.Taker, until: rec.Until, rev: e.Revision()}
	} else {
		delete(s.tk.byKey, k)
	}
	cut := s.misroutedLocked(s.clock(), k)
	s.mu.Unlock()
	closeAll(cut)
	switch {
	case put && (old == nil || old.taker != rec.Taker):
		s.log.Info("cluster: takeover seen", "taker", rec.Taker, "owner", k.owner, "session", k.session, "node", rec.Node, "relays_cut", len(cut))
	case !put && old != nil:
		s.log.Info("cluster: takeover ended", "taker", old.taker, "owner", k.owner, "session", k.session, "relays_cut", len(cut))
	}
	cl.notify()
}

// forgetUnseenTakeovers drops the takeovers a restarted watch did not
// replay (deleted while the old watch lagged).
func (s *Server) forgetUnseenTakeovers(cl *cluster, seen map[takeoverKey]bool) {
	s.mu.Lock()
	var ks []takeoverKey
	for k := range s.tk.byKey {
		if !seen[k] {
			delete(s.tk.byKey, k)
			ks = append(ks, k)
		}
	}
	cut := s.misroutedLocked(s.clock(), ks...)
	s.mu.Unlock()
	closeAll(cut)
	if len(ks) > 0 {
		cl.notify()
	}
}

// applyTakeover records in this node's table a takeover this node just
// wrote (rev), so its own relays follow before the watch says it.
func (s *Server) applyTakeover(k takeoverKey, t *takeover) []cutter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.tk.byKey[k]; cur != nil && cur.rev > t.rev {
		return nil
	}
	if s.tk.byKey == nil {
		s.tk.byKey = map[takeoverKey]*takeover{}
	}
	s.tk.byKey[k] = t
	return s.misroutedLocked(s.clock(), k)
}

// registerShared writes station id's takeover of k in the cluster's
// bucket. Create is the compare-and-set: of two stations taking over one
// session at two nodes at once, one Create succeeds and the other reads
// the winner's record (taken_by_other). Another station's record is
// replaced only when it is stale: its taker connected at no node and the
// record not written for half a lease (its node died before deleting it).
func (s *Server) registerShared(ctx context.Context, cl *cluster, id, teamID string, k takeoverKey) (status int, code, msg string) {
	kv := cl.takeoversKV()
	if kv == nil || !cl.isReady() {
		return http.StatusServiceUnavailable, "hub_busy", takeoverStoreMsg
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	key := takeoverKVKey(k)
	until := s.clock().Add(TakeoverLifetime)
	val, _ := json.Marshal(tkRecord{Taker: id, Until: until, Node: cl.ts.NodeName()})
	rev, err := kv.Create(ctx, key, val)
	again := false
	for range 4 {
		if err == nil || !casLost(err) {
			break
		}
		e, gerr := kv.Get(ctx, key)
		if errors.Is(gerr, jetstream.ErrKeyNotFound) {
			rev, err = kv.Create(ctx, key, val)
			continue
		}
		if gerr != nil {
			err = gerr
			break
		}
		var rec tkRecord
		if json.Unmarshal(e.Value(), &rec) == nil && rec.Taker != id && rec.Taker != "" {
			s.mu.Lock()
			live := s.takerOnlineLocked(rec.Taker)
			s.mu.Unlock()
			if s.clock().Before(rec.Until) && (live || time.Since(e.Created()) < cl.cfg.LeaseTTL/2) {
				return http.StatusConflict, "taken_by_other", takenByOtherMsg(rec.Taker)
			}
		} else {
			again = true
		}
		rev, err = kv.Update(ctx, key, val, e.Revision())
	}
	if err != nil {
		s.log.Warn("cluster: a takeover could not be recorded", "taker", id, "owner", k.owner, "session", k.session, "err", err)
		if casLost(err) {
			// The other taker wrote the key first: name it, as the
			// refusal does when the key was already there.
			who := "(another)"
			var rec tkRecord
			if e, gerr := kv.Get(ctx, key); gerr == nil && json.Unmarshal(e.Value(), &rec) == nil && rec.Taker != "" && rec.Taker != id {
				who = rec.Taker
			}
			return http.StatusConflict, "taken_by_other", takenByOtherMsg(who)
		}
		return http.StatusServiceUnavailable, "hub_busy", takeoverStoreMsg
	}
	cut := s.applyTakeover(k, &takeover{taker: id, until: until, rev: rev})
	closeAll(cut)
	cl.notify()
	if again {
		s.log.Debug("takeover renewed", "taker", id, "owner", k.owner, "session", k.session)
	} else {
		s.log.Info("takeover", "taker", id, "owner", k.owner, "session", k.session, "team", teamID, "relays_cut", len(cut), "shared", true)
	}
	return 0, "", ""
}

// casLost: a Create or Update met another write. Create's second try (a
// key whose last word is a delete) returns the server's error unmapped,
// which a replicated stream gives with its own code (10164).
func casLost(err error) bool {
	var api *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) ||
		(errors.As(err, &api) && (api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant))
}

func takenByOtherMsg(taker string) string {
	return fmt.Sprintf("Station %s of the team is connected to this PC right now: ask its technician to close their remote window, then try again.", taker)
}

// releaseShared deletes station id's takeover of k from the bucket (at
// the revision read: only if still id's) and from this node's table. It
// reports whether id held it; err: the store did not answer.
func (s *Server) releaseShared(ctx context.Context, cl *cluster, id string, k takeoverKey) (held bool, err error) {
	kv := cl.takeoversKV()
	if kv == nil {
		return false, errors.New("the cluster's buckets are not open yet")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	key := takeoverKVKey(k)
	for range 4 {
		e, gerr := kv.Get(ctx, key)
		if errors.Is(gerr, jetstream.ErrKeyNotFound) {
			break
		}
		if gerr != nil {
			return false, gerr
		}
		var rec tkRecord
		if json.Unmarshal(e.Value(), &rec) != nil || rec.Taker != id {
			break // not id's: nothing to release
		}
		err = kv.Delete(ctx, key, jetstream.LastRevision(e.Revision()))
		if err == nil {
			held = true
			break
		}
		if !isWrongLastSeq(err) {
			return false, err
		}
		// Renewed meanwhile by the taker's node: read it again.
	}
	s.mu.Lock()
	if t := s.tk.byKey[k]; t != nil && t.taker == id {
		delete(s.tk.byKey, k)
		held = true
	}
	cut := s.misroutedLocked(s.clock(), k)
	s.mu.Unlock()
	closeAll(cut)
	cl.notify()
	return held, nil
}

// dropShared deletes the takeovers ks of a taker whose control connection
// ended here (and is held at no other node) from the bucket. A delete that
// fails leaves the lease to run out (no node renews it).
func (s *Server) dropShared(cl *cluster, taker string, ks map[takeoverKey]uint64) {
	kv := cl.takeoversKV()
	if kv == nil || len(ks) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for k, rev := range ks {
		key := takeoverKVKey(k)
		err := kv.Delete(ctx, key, jetstream.LastRevision(rev))
		if err != nil && isWrongLastSeq(err) {
			// Renewed or replaced since this node's view: only if still
			// the taker's.
			if e, gerr := kv.Get(ctx, key); gerr == nil {
				var rec tkRecord
				if json.Unmarshal(e.Value(), &rec) == nil && rec.Taker == taker {
					err = kv.Delete(ctx, key, jetstream.LastRevision(e.Revision()))
				} else {
					err = nil
				}
			} else if errors.Is(gerr, jetstream.ErrKeyNotFound) {
				err = nil
			}
		}
		if err != nil {
			s.log.Warn("cluster: a takeover of a station gone could not be withdrawn; it runs out with its lease", "taker", taker, "owner", k.owner, "session", k.session, "err", err)
		}
	}
}

// renewTakeovers renews the leases of the takeovers whose taker holds its
// control connection at this node, and deletes those past their 25 h.
// Those of a taker connected nowhere are renewed by no node and run out
// after the lease's TTL.
func (s *Server) renewTakeovers(ctx context.Context, cl *cluster) bool {
	kv := cl.takeoversKV()
	if kv == nil {
		return true
	}
	type item struct {
		k takeoverKey
		t takeover
	}
	s.mu.Lock()
	var mine []item
	for k, t := range s.tk.byKey {
		if s.online[t.taker] != nil {
			mine = append(mine, item{k, *t})
		}
	}
	now := s.clock()
	s.mu.Unlock()
	ok := true
	for _, it := range mine {
		key := takeoverKVKey(it.k)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if !now.Before(it.t.until) {
			kv.Delete(wctx, key, jetstream.LastRevision(it.t.rev))
			cancel()
			continue
		}
		val, _ := json.Marshal(tkRecord{Taker: it.t.taker, Until: it.t.until, Node: cl.ts.NodeName()})
		rev, err := kv.Update(wctx, key, val, it.t.rev)
		if err != nil && isWrongLastSeq(err) {
			// Written meanwhile (renewed by its POST at another node):
			// renew what is there if it is still this taker's.
			if e, gerr := kv.Get(wctx, key); gerr == nil {
				var rec tkRecord
				if json.Unmarshal(e.Value(), &rec) == nil && rec.Taker == it.t.taker {
					rec.Node = cl.ts.NodeName()
					val, _ = json.Marshal(rec)
					rev, err = kv.Update(wctx, key, val, e.Revision())
				} else {
					err = nil
					rev = 0
				}
			}
		}
		cancel()
		if err != nil {
			ok = false
			continue
		}
		if rev != 0 {
			s.mu.Lock()
			if cur := s.tk.byKey[it.k]; cur != nil && cur.taker == it.t.taker && cur.rev < rev {
				cur.rev = rev
			}
			s.mu.Unlock()
		}
	}
	return ok
}

// clusterServeHere is the station a relay of tok that is to be served at
// this node goes to: to when it is held here (or alone, without a
// cluster); else the session's other station (its owner, or the station
// that took it over) when that one is held here. Another node forwards a
// relay here because its view says the relay's station is here; this
// node's view may differ for a moment, e.g. after the taker's node died:
// the forwarding node found it dead, while this node still believes the
// taker's lease until it runs out. Both stations are the session's own,
// and the forwarding node a node (its MAC).
func (s *Server) clusterServeHere(tok *hublink.Token, to string) string {
	k := takeoverKey{tok.Station, tok.Session}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cl == nil || s.online[to] != nil {
		return to
	}
	if s.online[k.owner] != nil {
		return k.owner
	}
	if t := s.tk.byKey[k]; t != nil && s.online[t.taker] != nil && s.clock().Before(t.until) {
		return t.taker
	}
	return to
}
