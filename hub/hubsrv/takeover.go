package hubsrv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"adhocstation/core/hublink"
)

// Take over (docs/HUB.md "Take over"): a station of a team asks the hub to
// hand it the relays of a session paired at another station of the same
// team. The PC keeps dialling with the owner's token, verified with the
// owner's key as always; only where the hub sends the relay changes. The
// PC's pinned TLS then decides whether it talks to the taker (it accepts
// the team's pins the owner gave it), so the hub gains no power over a
// PC by this: it could already send a relay to any station.

const (
	// MaxTakeoversPerTaker bounds the takeovers one station holds: a
	// technician works on a few PCs at once; 64 keeps a buggy or hostile
	// station from growing the table without end.
	MaxTakeoversPerTaker = 64
	// TakeoverLifetime is the longest a takeover lives without being
	// asked again: a session lasts at most a day, and a taker that
	// forgets to release must not keep a PC away from its station.
	TakeoverLifetime = 25 * time.Hour
	// takeoverField bounds a request's station and session ids.
	takeoverField = 128
)

type takeoverKey struct{ owner, session string }

type takeover struct {
	taker string
	until time.Time // by the hub's clock
	rev   uint64    // in a cluster: its revision in the bucket (takeover_cluster.go)
}

// takeovers is the hub's table (under Server.mu; the zero value is ready).
// In a cluster it is the whole cluster's, kept from the shared bucket
// (takeover_cluster.go); alone, this node's own.
type takeovers struct {
	byKey map[takeoverKey]*takeover
	// relays are the spliced relays of each session and the station each
	// one is served by, so that a change of route cuts the relays on the
	// wrong side and the PC redials to the right one at once.
	relays map[takeoverKey]map[cutter]string
}

// takeoverTargetLocked is the station the relays of k go to now: the
// taker while its takeover lives and it holds a control connection (in a
// cluster, at any node), else the owner. Call with s.mu held.
func (s *Server) takeoverTargetLocked(k takeoverKey, now time.Time) string {
	t := s.tk.byKey[k]
	if t == nil {
		return k.owner
	}
	if !now.Before(t.until) {
		delete(s.tk.byKey, k)
		return k.owner
	}
	if !s.takerOnlineLocked(t.taker) {
		return k.owner
	}
	return t.taker
}

// routeRelay is where the relay of a verified token goes, and the control
// message that asks that station to take it.
func (s *Server) routeRelay(tok *hublink.Token, client string) (to string, m hublink.ControlMessage) {
	k := takeoverKey{tok.Station, tok.Session}
	s.mu.Lock()
	to = s.takeoverTargetLocked(k, s.clock())
	s.mu.Unlock()
	m = hublink.ControlMessage{Type: "accept", Session: tok.Session, Client: client}
	if to != tok.Station {
		m.Owner = tok.Station
		s.log.Debug("relay handed to the taking station", "owner", tok.Station, "session", tok.Session, "taker", to)
	}
	return to, m
}

// trackRelay records a relay of session k served by station to (its
// station-side WebSocket ws) until release runs, which the returned
// function then does too. A relay whose route changed while it was being
// opened is cut at once: the PC redials to the right station.
func (s *Server) trackRelay(owner, session, to string, ws cutter, release func()) func() {
	k := takeoverKey{owner, session}
	s.mu.Lock()
	target := s.takeoverTargetLocked(k, s.clock())
	// In a cluster, a relay served here for a station other than the one
	// this node's view names is cut only when that one is held here: the
	// node that forwarded it may know better (clusterServeHere).
	stale := target != to && (s.cl == nil || s.online[target] != nil)
	if s.tk.relays == nil {
		s.tk.relays = map[takeoverKey]map[cutter]string{}
	}
	if s.tk.relays[k] == nil {
		s.tk.relays[k] = map[cutter]string{}
	}
	s.tk.relays[k][ws] = to
	s.mu.Unlock()
	if stale {
		ws.CloseNow()
	}
	return func() {
		s.mu.Lock()
		if m := s.tk.relays[k]; m != nil {
			delete(m, ws)
			if len(m) == 0 {
				delete(s.tk.relays, k)
			}
		}
		s.mu.Unlock()
		release()
	}
}

// misroutedLocked are the open relays of the sessions ks that are served
// by another station than the one their relays go to now. Call with s.mu
// held; close them after unlocking.
func (s *Server) misroutedLocked(now time.Time, ks ...takeoverKey) []cutter {
	var cut []cutter
	for _, k := range ks {
		to := s.takeoverTargetLocked(k, now)
		for ws, by := range s.tk.relays[k] {
			if by != to {
				cut = append(cut, ws)
			}
		}
	}
	return cut
}

func closeAll(ws []cutter) {
	for _, w := range ws {
		w.CloseNow()
	}
}

// takerGone drops the takeovers of station id once it holds no control
// connection (a newer one replacing an older one keeps them; in a
// cluster, one at another node too), and cuts their relays so the PCs go
// back to their own stations. In a cluster the takeovers leave the shared
// bucket too, so every node drops them.
func (s *Server) takerGone(id string) {
	s.mu.Lock()
	if s.takerOnlineLocked(id) {
		s.mu.Unlock()
		return
	}
	var ks []takeoverKey
	revs := map[takeoverKey]uint64{}
	for k, t := range s.tk.byKey {
		if t.taker == id {
			delete(s.tk.byKey, k)
			ks = append(ks, k)
			revs[k] = t.rev
		}
	}
	cut := s.misroutedLocked(s.clock(), ks...)
	cl := s.cl
	s.mu.Unlock()
	closeAll(cut)
	if cl != nil {
		s.dropShared(cl, id, revs)
		cl.notify()
	}
	if len(ks) > 0 {
		s.log.Info("takeovers dropped: the taking station went offline", "taker", id, "count", len(ks), "relays_cut", len(cut))
	}
}

// Takeovers is how many takeovers the hub holds now (expired ones aside).
func (s *Server) Takeovers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, n := s.clock(), 0
	for _, t := range s.tk.byKey {
		if now.Before(t.until) {
			n++
		}
	}
	return n
}

// takeover answers POST hublink.PathTakeover.
func (s *Server) takeover(w http.ResponseWriter, r *http.Request) {
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(15 * time.Second))
	id, teamID, err := s.station(r)
	if err != nil {
		refuseStation(w, err)
		return
	}
	var req hublink.TakeoverRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil ||
		req.Owner == "" || req.Session == "" || len(req.Owner) > takeoverField || len(req.Session) > takeoverField {
		refuse(w, http.StatusBadRequest, "bad_request", "The hub could not read which station's session to take over: this station's software may not match the hub's version.")
		return
	}
	if req.Owner == id {
		refuse(w, http.StatusBadRequest, "bad_request", "This session is this station's own: connect to the PC as usual.")
		return
	}
	k := takeoverKey{req.Owner, req.Session}
	if cl := s.cluster(); cl != nil && req.Release {
		held, err := s.releaseShared(r.Context(), cl, id, k)
		if err != nil {
			s.log.Warn("cluster: a takeover could not be released", "taker", id, "owner", req.Owner, "session", req.Session, "err", err)
			refuse(w, http.StatusServiceUnavailable, "hub_busy", takeoverStoreMsg)
			return
		}
		if held {
			s.log.Info("takeover released", "taker", id, "owner", req.Owner, "session", req.Session)
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if req.Release {
		s.mu.Lock()
		t := s.tk.byKey[k]
		held := t != nil && t.taker == id
		var cut []cutter
		if held {
			delete(s.tk.byKey, k)
			cut = s.misroutedLocked(s.clock(), k)
		}
		s.mu.Unlock()
		closeAll(cut)
		if held {
			s.log.Info("takeover released", "taker", id, "owner", req.Owner, "session", req.Session)
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	status, code, msg := s.register(r.Context(), id, teamID, k)
	if code != "" {
		s.log.Info("takeover refused", "taker", id, "owner", req.Owner, "session", req.Session, "code", code)
		refuse(w, status, code, msg)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// register records station id's takeover of k, or says why not.
func (s *Server) register(ctx context.Context, id, teamID string, k takeoverKey) (status int, code, msg string) {
	if teamID == "" {
		return http.StatusForbidden, "not_same_team", "This station belongs to no team at this hub, so it cannot connect to PCs of other stations. Ask the hub's admin for a code made with adhoc-hub enrol -team NAME."
	}
	s.mu.Lock()
	owner := s.state.Stations[k.owner]
	switch {
	case owner == nil || !owner.Revoked.IsZero():
		s.mu.Unlock()
		return http.StatusNotFound, "unknown_station", fmt.Sprintf("The hub knows no station %s (it may have left the hub or been removed by the hub's admin), so its PCs cannot be reached through it.", k.owner)
	case owner.Team != teamID:
		s.mu.Unlock()
		return http.StatusForbidden, "not_same_team", fmt.Sprintf("Station %s is not in this station's team at the hub: only a station of the same team can connect to its PCs.", k.owner)
	case !s.takerOnlineLocked(id):
		// The relays would have nowhere to go, and nothing would drop the
		// takeover: the hub drops them when the taker's connection ends.
		s.mu.Unlock()
		return http.StatusServiceUnavailable, "station_offline", "This station is not connected to the hub right now: wait until Settings says the hub is connected, then try again."
	}
	now := s.clock()
	cl := s.cl
	if t := s.tk.byKey[k]; t != nil && now.Before(t.until) && t.taker != id && s.takerOnlineLocked(t.taker) && (cl == nil || !cl.blindTakeovers.Load()) {
		s.mu.Unlock()
		return http.StatusConflict, "taken_by_other", takenByOtherMsg(t.taker)
	}
	held := 0
	for kk, t := range s.tk.byKey {
		switch {
		case !now.Before(t.until):
			delete(s.tk.byKey, kk) // expired: the table keeps live ones only
		case t.taker == id && kk != k:
			held++
		}
	}
	if held >= MaxTakeoversPerTaker {
		s.mu.Unlock()
		return http.StatusTooManyRequests, "too_many_takeovers", fmt.Sprintf("This station is already connected to %d PCs of other stations, as many as it may: close the remote windows to other stations' PCs no longer needed, then try again.", MaxTakeoversPerTaker)
	}
	if cl != nil {
		// The cluster's table: written to the shared bucket, which
		// decides between two nodes registering at once.
		s.mu.Unlock()
		return s.registerShared(ctx, cl, id, teamID, k)
	}
	again := s.tk.byKey[k] != nil && s.tk.byKey[k].taker == id
	if s.tk.byKey == nil {
		s.tk.byKey = map[takeoverKey]*takeover{}
	}
	s.tk.byKey[k] = &takeover{taker: id, until: now.Add(TakeoverLifetime)}
	cut := s.misroutedLocked(now, k)
	s.mu.Unlock()
	closeAll(cut)
	if again {
		s.log.Debug("takeover renewed", "taker", id, "owner", k.owner, "session", k.session)
	} else {
		s.log.Info("takeover", "taker", id, "owner", k.owner, "session", k.session, "team", teamID, "relays_cut", len(cut))
	}
	return 0, "", ""
}
