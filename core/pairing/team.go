package pairing

import (
	"context"
	"crypto/tls"
	"errors"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"adhocstation/core"
	"adhocstation/core/hublink"
	"adhocstation/core/refusal"
	"adhocstation/core/team"

	"github.com/nats-io/nkeys"
)

// The team of stations (docs/TEAM.md): while the station is joined to a hub
// that says it belongs to a team, the pairing service keeps a core/team
// client beside the hub link, and the station's prepares claim the team's
// seats through it (core.Station.UseSeatPool). Without a hub, or with a hub
// that says "no team", nothing of this runs.

// TeamState is the station's place in its team as Settings shows it.
type TeamState struct {
	Team      string // "" when the station is in no team
	Seats     int    // the team's seats
	Held      int    // seats held across the team
	Online    int    // stations online, this one included
	Connected bool   // the team server is reachable now
	Revoked   bool   // the hub revoked this station
	LastError string // why the team is not reachable, or "" when it is
}

// TeamSession is a session of another station of the team, for the
// Computers page.
type TeamSession struct {
	Station       string // the other station's id at the hub
	StationName   string // its name ("" until it was seen: show the id then)
	Session       string // its key there
	PreparedBy    string // the technician's name
	State         string // the other station's words for its state
	Computer      string // the PC's name once paired ("" before)
	PCOnline      bool
	StationOnline bool
	Updated       time.Time
}

// teamRetry bounds the wait between attempts to learn the team from an
// unreachable hub.
var teamRetry = struct{ first, max time.Duration }{time.Second, 30 * time.Second}

// runTeam learns the station's team from its hub and keeps the team client
// until ctx ends (the hub left or replaced, or the service closed).
func (s *Server) runTeam(ctx context.Context, r *hubRun, acc core.HubAccess, client *http.Client) {
	credURL := strings.TrimRight(acc.URL, "/") + hublink.PathTeam
	m, stored, err := s.st.TeamMembership(ctx)
	if err != nil {
		s.log.Error("the stored team cannot be read", "err", err)
	}
	if stored && m.HubStation != acc.StationID { // learned under another enrolment
		stored = false
	}
	if !stored {
		seed, err := newUserSeed()
		if err != nil {
			s.log.Error("no team key", "err", err)
			return
		}
		m = core.TeamMembership{HubStation: acc.StationID, Seed: seed}
	}
	var first *team.Credential
	wait := teamRetry.first
	for {
		c, err := team.FetchCredential(ctx, client, credURL, acc.Credential, m.Seed)
		if err == nil {
			first = &c
			break
		}
		if ctx.Err() != nil {
			return
		}
		switch {
		case errors.Is(err, team.ErrNoTeam):
			if stored {
				_ = s.st.ForgetTeam(ctx)
			}
			s.setPeers(r, nil)
			s.setTeamState(r, TeamState{})
			return
		case errors.Is(err, team.ErrRevoked):
			s.setPeers(r, nil)
			// The hub refuses the whole station (its link says so); the
			// team line says it only for a station that was in a team.
			if m.Team != "" {
				s.setTeamState(r, TeamState{Team: m.Team, Seats: m.Seats, Revoked: true, LastError: team.ErrRevoked.Error()})
			}
			return
		}
		if stored { // start alone on the share of what was last known
			s.log.Info("the hub cannot be asked for the team; starting on the last known share", "err", err)
			break
		}
		// Most stations are in no team: the hub link's own error says
		// the hub is away, the team line stays empty until it answers.
		s.log.Info("the hub could not be asked whether this station is in a team; trying again", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, teamRetry.max)
	}
	if first != nil {
		m.Team, m.URLs = first.Team, first.URLs
		if first.Seats > 0 {
			m.Seats = first.Seats
		}
		if m.Stations < 1 {
			m.Stations = 1
		}
		if err := s.st.SaveTeamMembership(ctx, m); err != nil {
			s.log.Error("the team could not be stored", "err", err)
		}
	}
	s.keepTeam(ctx, r, acc, client, credURL, m, first)
}

func newUserSeed() ([]byte, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, err
	}
	return kp.Seed()
}

// teamTLS is the TLS the station reaches the hub's team server with: the
// roots its hub client trusts (the system's, or a test's).
func teamTLS(client *http.Client) *tls.Config {
	if t, ok := client.Transport.(*http.Transport); ok && t.TLSClientConfig != nil {
		c := t.TLSClientConfig.Clone()
		c.NextProtos = nil
		return c
	}
	return &tls.Config{MinVersion: tls.VersionTLS12}
}

// keepTeam runs the team client for membership m until ctx ends or the
// station is revoked.
func (s *Server) keepTeam(ctx context.Context, r *hubRun, acc core.HubAccess, client *http.Client, credURL string, m core.TeamMembership, first *team.Credential) {
	var once sync.Mutex
	jwtFn := func() (string, error) {
		once.Lock()
		f := first
		first = nil
		once.Unlock()
		if f != nil && time.Until(time.Unix(f.Expires, 0)) > time.Minute {
			return f.JWT, nil // just fetched: no second round trip at the first connect
		}
		c, err := team.FetchCredential(ctx, client, credURL, acc.Credential, m.Seed)
		return c.JWT, err
	}
	// Requests of other stations to end a session here, and their notices
	// that they took over a PC of a session here, are acted on one by one,
	// in the bucket's order, by one worker off the watch goroutine, once
	// the client is known (they may come during Open, from the first watch
	// pass). An item is a team.EndRequest or a team.TakeoverNotice.
	var (
		endMu    sync.Mutex
		endQueue []any
	)
	endN := make(chan struct{}, 1)
	enqueue := func(item any) {
		endMu.Lock()
		endQueue = append(endQueue, item)
		endMu.Unlock()
		select {
		case endN <- struct{}{}:
		default:
		}
	}
	var opened *team.Client
	openDone := make(chan struct{})
	endWorker := make(chan struct{})
	wctx, stopWorker := context.WithCancel(ctx)
	go func() {
		defer close(endWorker)
		select {
		case <-openDone:
		case <-wctx.Done():
			return
		}
		for opened != nil {
			select {
			case <-wctx.Done():
				return
			case <-endN:
			}
			endMu.Lock()
			q := endQueue
			endQueue = nil
			endMu.Unlock()
			for _, item := range q {
				switch it := item.(type) {
				case team.EndRequest:
					s.endAtRequest(wctx, opened, it)
				case team.TakeoverNotice:
					s.tookOver(wctx, opened, it)
				}
			}
		}
	}()
	defer func() { stopWorker(); <-endWorker }()
	changed := make(chan struct{}, 1)
	poke := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	cfg := team.Config{
		URLs: m.URLs, TLS: teamTLS(client), TeamID: m.Team, StationID: acc.StationID,
		UserSeed: m.Seed, JWT: jwtFn, Log: s.log.With("team", m.Team, "station", acc.StationID),
		Known:        &team.Known{Seats: m.Seats, Stations: max(m.Stations, 1)},
		LeaseTTL:     s.opts.TeamLeaseTTL,
		OnReconnect:  poke,
		OnChange:     func([]team.Entry) { poke() },
		OnEndRequest: func(r team.EndRequest) { enqueue(r) },
		OnTakeover:   func(n team.TakeoverNotice) { enqueue(n) },
		Name:         s.stationName(),
		Pin:          s.ownPin(),
		KnownMembers: knownMembers(m.Members),
	}
	tc, err := team.Open(ctx, cfg)
	opened = tc // nil when Open failed: the worker stops
	close(openDone)
	if err != nil {
		s.setTeamState(r, TeamState{Team: m.Team, Seats: m.Seats, LastError: err.Error()})
		return
	}
	defer tc.Close()
	pctx, stopPool := context.WithCancel(ctx)
	defer stopPool()
	if err := s.st.UseSeatPool(pctx, tc); err != nil {
		s.setTeamState(r, TeamState{Team: m.Team, Seats: m.Seats, LastError: err.Error()})
		return
	}
	sentPins := s.teamPins() // what the PCs' channels opened with until now
	s.setTeamClient(r, tc)
	defer s.setTeamClient(r, nil)
	s.log.Info("the station works in its team", "team", m.Team, "seats", m.Seats)
	tick := time.NewTicker(time.Second) // connection state has no callback on loss
	defer tick.Stop()
	last := m
	for {
		if tc.Revoked() {
			// Revoked: the station works alone on its own seats from now on.
			s.setPeers(r, nil)
			stopPool()
			s.setTeamClient(r, nil)
			tc.Close()
			s.setTeamState(r, TeamState{Team: m.Team, Seats: last.Seats, Revoked: true, LastError: team.ErrRevoked.Error()})
			s.setTeamList(r, nil)
			return
		}
		k := tc.Known()
		total, held := tc.Seats()
		st := TeamState{Team: m.Team, Seats: k.Seats, Held: held, Online: k.Stations, Connected: tc.Connected()}
		if total > 0 {
			st.Seats = total
		}
		if !st.Connected {
			st.LastError = "The team server at the hub is unreachable: this station works on its share of the team's seats (" + strconv.Itoa(tc.OfflineShare()) + ") until it answers."
		}
		s.setTeamState(r, st)
		s.setTeamList(r, others(tc.List(), acc.StationID))
		// One view of the members for both the stored ones and the pins, so
		// that idle channels are reopened (below) only once the members the
		// PCs are told of are stored (a restart lists the same).
		stations := tc.Stations()
		peers := peersOf(stations, acc.StationID)
		if st.Connected && k.Seats > 0 && (k.Seats != last.Seats || k.Stations != last.Stations || !maps.Equal(peers, last.Members)) {
			last.Seats, last.Stations, last.Members = k.Seats, k.Stations, peers
			s.setPeers(r, peers)
			if err := s.st.SaveTeamMembership(ctx, last); err != nil && ctx.Err() == nil {
				s.log.Warn("the team's last known share could not be stored", "err", err)
			}
		}
		// A pin gained or lost: the PCs' lists are stale. A lost pin is a
		// revoked station (the marker dropped it from tc's members; the
		// stored ones were saved without it above): the PCs must forget it
		// now, not at their next reconnect.
		pins := s.pinsOf(stations)
		if gained, lost := pinsChanged(sentPins, pins); gained || lost {
			sentPins = pins
			n := s.reopenIdleChannels()
			switch {
			case n == 0:
			case gained && lost:
				s.log.Info("the team's stations changed (one joined or changed its certificate, or one was revoked): idle live channels reopened so their PCs read the team's pins again", "channels", n)
			case gained:
				s.log.Info("a station joined the team: idle live channels reopened so their PCs learn its pin", "channels", n)
			default:
				s.log.Info("a station of the team was revoked: idle live channels reopened so their PCs forget its pin", "channels", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-tick.C:
		}
	}
}

// others are the team's sessions of the other stations, newest first.
func others(all []team.Entry, self string) []TeamSession {
	var out []TeamSession
	for _, e := range all {
		if e.Station == self {
			continue
		}
		out = append(out, TeamSession{Station: e.Station, StationName: e.StationName, Session: e.Session, PreparedBy: e.PreparedBy, State: e.State, Computer: e.Computer,
			PCOnline: e.PCOnline, StationOnline: e.StationOnline, Updated: e.Updated})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Updated.After(out[j].Updated) })
	return out
}

// setTeamState and setTeamList take reports of run r only while r is the
// running link (nil: the link stopped, the team is reset).
func (s *Server) setTeamState(r *hubRun, st TeamState) {
	s.hubMu.Lock()
	if r != nil && s.hub != r {
		s.hubMu.Unlock()
		return
	}
	same := s.teamState == st
	s.teamState = st
	s.hubMu.Unlock()
	if !same && s.opts.OnTeamState != nil {
		s.opts.OnTeamState(st)
	}
}

func (s *Server) setTeamList(r *hubRun, l []TeamSession) {
	s.hubMu.Lock()
	if r != nil && s.hub != r {
		s.hubMu.Unlock()
		return
	}
	same := slices.Equal(s.teamList, l)
	s.teamList = l
	s.hubMu.Unlock()
	if !same && s.opts.OnTeamList != nil {
		s.opts.OnTeamList(l)
	}
}

// TeamState is the station's place in its team now.
func (s *Server) TeamState() TeamState {
	s.hubMu.Lock()
	defer s.hubMu.Unlock()
	return s.teamState
}

// TeamSessions are the sessions of the team's other stations now.
func (s *Server) TeamSessions() []TeamSession {
	s.hubMu.Lock()
	defer s.hubMu.Unlock()
	return slices.Clone(s.teamList)
}

// endAtRequest acts on another station's request to end a session here,
// exactly as the technician's End session now, and then deletes the request.
// A session no longer open (ended here, expired) just drops it; a failure to
// end leaves it for the next time the watch hands it over.
func (s *Server) endAtRequest(ctx context.Context, tc *team.Client, req team.EndRequest) {
	id, err := strconv.ParseInt(req.Session, 10, 64)
	if err == nil {
		err = s.st.EndAtRequest(ctx, id, req.From, req.Technician)
	}
	switch {
	case err == nil:
		s.log.Info("session ended at the request of another station of the team", "session", req.Session, "from", req.From, "technician", req.Technician)
	case errors.Is(err, core.ErrSessionClosed), errors.Is(err, core.ErrSessionNotFound), errors.Is(err, strconv.ErrSyntax), errors.Is(err, strconv.ErrRange):
		s.log.Info("a request to end a session no longer open here is dropped", "session", req.Session, "from", req.From)
	default:
		if ctx.Err() == nil {
			s.log.Error("a session could not be ended at another station's request", "session", req.Session, "from", req.From, "err", err)
		}
		return
	}
	if err := tc.DoneEnd(ctx, req); err != nil && ctx.Err() == nil {
		s.log.Warn("a request to end a session could not be deleted; it is read again at the next reconnect", "err", err)
	}
}

func (s *Server) setTeamClient(r *hubRun, tc *team.Client) {
	s.hubMu.Lock()
	defer s.hubMu.Unlock()
	if tc != nil && s.hub != r {
		return
	}
	s.teamClient = tc
}

// ErrNoTeamNow: the station is in no team at the moment (it left its hub,
// or was revoked), so another station's session cannot be ended from here.
var ErrNoTeamNow = refusal.New("team_none", "This station is not in a team now, so it cannot end a session of another station. Join the team's hub again (Settings), or ask the technician at that station.")

// RequestTeamEnd asks station owner to end its session (as listed in
// TeamSessions) for technician, and records the request in this station's
// audit. ownerOnline false: the owner ends it when it next connects (the
// request waits in the team's bucket), or the session ends at its 24-hour
// end there.
func (s *Server) RequestTeamEnd(ctx context.Context, owner, session, preparedBy, technician string) (ownerOnline bool, err error) {
	s.hubMu.Lock()
	tc := s.teamClient
	s.hubMu.Unlock()
	if tc == nil {
		if s.TeamState().Revoked {
			return false, team.ErrRevoked
		}
		return false, ErrNoTeamNow
	}
	ownerOnline, err = tc.RequestEnd(ctx, owner, session, technician, preparedBy)
	if err != nil {
		return false, err
	}
	return ownerOnline, s.st.AuditTeamEndRequest(ctx, owner, session, preparedBy, technician, ownerOnline)
}
