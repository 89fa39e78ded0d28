package pairing

import (
	"context"
	"errors"
	"os"
	"slices"
	"sort"
	"strconv"
	"time"

	"adhocstation/core"
	"adhocstation/core/team"
	"adhocstation/core/wire"
)

// The owner's side of a takeover (docs/TEAM.md, "Take over"): a station
// tells its PCs, on every live channel it opens, the pins of the other
// stations of its team, so a PC accepts a teammate's certificate when the
// hub hands it to that station; and when a teammate announces that it took
// over a PC of a session here, the station records it and closes its own
// live channel to that PC, so the PC redials and the hub hands it over.

// stationName is how the team names this station: Options.StationName, else
// the host name the hub enrolled it under.
func (s *Server) stationName() string {
	if s.opts.StationName != "" {
		return s.opts.StationName
	}
	h, _ := os.Hostname()
	return h
}

// ownPin is the pin of the certificate this station serves (the first of
// Pins, the one a takeover's TLS shows).
func (s *Server) ownPin() string {
	if p := s.Pins(); len(p) > 0 {
		return p[0]
	}
	return ""
}

func knownMembers(peers map[string]core.TeamPeer) map[string]team.Member {
	out := make(map[string]team.Member, len(peers))
	for id, p := range peers {
		out[id] = team.Member{Name: p.Name, Pin: p.Pin}
	}
	return out
}

// peersOf are the other stations for the stored membership.
func peersOf(stations map[string]team.Member, self string) map[string]core.TeamPeer {
	out := map[string]core.TeamPeer{}
	for id, m := range stations {
		if id != self {
			out[id] = core.TeamPeer{Name: m.Name, Pin: m.Pin}
		}
	}
	return out
}

// storedPeers are the team's other stations as stored under the hub
// enrolment stationID (nil when none), read before the hub link starts, so
// a PC whose channel opens before the team client runs still gets the pins.
func (s *Server) storedPeers(ctx context.Context, stationID string) map[string]core.TeamPeer {
	m, ok, err := s.st.TeamMembership(ctx)
	if err != nil || !ok || m.HubStation != stationID {
		return nil
	}
	return m.Members
}

// setPeers replaces run r's stored peers (nil: in no team, or revoked).
func (s *Server) setPeers(r *hubRun, peers map[string]core.TeamPeer) {
	s.hubMu.Lock()
	defer s.hubMu.Unlock()
	if r != nil {
		r.peers = peers
	}
}

// teamPins are the pins the live channel's answer lists: the other stations
// of the team this station knows (online ones first), never its own, at
// most wire.MaxTeamPins; none when it is in no team now. Without a team
// client running (starting, or the hub unreachable at start), the stored
// ones.
func (s *Server) teamPins() []string {
	s.hubMu.Lock()
	tc, revoked := s.teamClient, s.teamState.Revoked
	var stored map[string]core.TeamPeer
	if s.hub != nil {
		stored = s.hub.peers
	}
	s.hubMu.Unlock()
	if revoked {
		return nil
	}
	if tc != nil {
		return s.pinsOf(tc.Stations())
	}
	return s.pinsOf(knownMembers(stored))
}

// pinsOf are the pins teamPins lists of the stations all.
func (s *Server) pinsOf(all map[string]team.Member) []string {
	own := s.Pins()
	type peer struct {
		id, pin string
		online  bool
	}
	var peers []peer
	for id, m := range all {
		if m.Pin == "" || !team.ValidPin(m.Pin) || slices.Contains(own, m.Pin) {
			continue
		}
		peers = append(peers, peer{id, m.Pin, m.Online})
	}
	sort.Slice(peers, func(i, j int) bool {
		if peers[i].online != peers[j].online {
			return peers[i].online
		}
		return peers[i].id < peers[j].id
	})
	var out []string
	for _, p := range peers {
		if len(out) == wire.MaxTeamPins {
			break
		}
		if !slices.Contains(out, p.pin) {
			out = append(out, p.pin)
		}
	}
	return out
}

// reopenIdleChannels closes the live channels no technician uses, so
// their PCs redial at once and read the team's pins again from the
// answer: a PC learns its team's pins only when its channel opens, and
// would refuse a station that joined the team since, or still accept one
// the hub revoked. Channels carrying a remote session stay; they learn at
// their next open.
func (s *Server) reopenIdleChannels() int {
	idle := s.live.idle()
	for _, ys := range idle {
		ys.Close()
	}
	return len(idle)
}

// pinsChanged reports whether now holds a pin before does not (a station
// joined, or changed its certificate), and whether it lost one (a station
// the hub revoked: members are otherwise never forgotten).
func pinsChanged(before, now []string) (gained, lost bool) {
	for _, p := range now {
		if !slices.Contains(before, p) {
			gained = true
		}
	}
	for _, p := range before {
		if !slices.Contains(now, p) {
			lost = true
		}
	}
	return gained, lost
}

// teamPinsLine is the live channel's 101 header line with the team's pins
// ("" when none: the PC then forgets any team pins it had).
func (s *Server) teamPinsLine() string {
	pins := s.teamPins()
	if len(pins) == 0 {
		return ""
	}
	line := wire.TeamPinsHeader + ": "
	for i, p := range pins {
		if i > 0 {
			line += ","
		}
		line += p
	}
	return line + "\r\n"
}

// tookOver acts on a teammate's notice that it connected to the PC of one
// of this station's sessions: the session's audit says so, this station's
// live channels to that PC close (the PC redials, and the hub hands it to
// the teammate), and the notice is deleted. A notice for an unknown session
// is just deleted; one whose audit failed (the database) stays for the next
// time the watch hands it over.
func (s *Server) tookOver(ctx context.Context, tc *team.Client, n team.TakeoverNotice) {
	// The same notice comes again when the watch starts over before it
	// was deleted (a reconnect): recorded once.
	key := n.Session + "." + n.Taker
	s.tookMu.Lock()
	done := s.tookDone[key].Equal(n.At) && !n.At.IsZero()
	s.tookMu.Unlock()
	id, err := strconv.ParseInt(n.Session, 10, 64)
	if err == nil && done {
		s.dropChannels(id)
		_ = tc.DoneTakeover(ctx, n)
		return
	}
	if err == nil {
		err = s.st.AuditTeamTakeover(ctx, id, core.TeamTakeover{Taker: n.Taker, TakerName: tc.Stations()[n.Taker].Name,
			Technician: n.Technician, Computer: n.Computer})
	}
	switch {
	case err == nil:
		s.tookMu.Lock()
		if s.tookDone == nil {
			s.tookDone = map[string]time.Time{}
		}
		s.tookDone[key] = n.At
		s.tookMu.Unlock()
		s.dropChannels(id)
		s.log.Info("a station of the team took over a PC of a session here; its live channel closed", "session", n.Session, "taker", n.Taker, "technician", n.Technician)
	case errors.Is(err, core.ErrSessionNotFound), errors.Is(err, strconv.ErrSyntax), errors.Is(err, strconv.ErrRange):
		s.log.Info("a takeover notice for a session unknown here is dropped", "session", n.Session, "taker", n.Taker)
	default:
		if ctx.Err() == nil {
			s.log.Error("a takeover notice could not be recorded", "session", n.Session, "taker", n.Taker, "err", err)
		}
		return
	}
	if err := tc.DoneTakeover(ctx, n); err != nil && ctx.Err() == nil {
		s.log.Warn("a takeover notice could not be deleted; it is read again at the next reconnect", "err", err)
	}
}
