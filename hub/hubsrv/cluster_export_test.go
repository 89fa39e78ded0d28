package hubsrv

// Knows reports whether station id is enrolled as this node knows it.
func (s *Server) Knows(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.Stations[id] != nil
}

// ClusterChanged is closed at the next change this node sees in the
// shared stations or leases (tests wait on it instead of sleeping).
func (s *Server) ClusterChanged() <-chan struct{} { return s.cluster().changedCh() }

// StationHolder is the node URL this node believes holds station id's
// control connection ("" : none), as the leases say.
func (s *Server) StationHolder(id string) string {
	cl := s.cluster()
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.where[id].url
}

// Forwarded counts relays and data connections this node forwarded.
func (s *Server) Forwarded() uint64 { return s.cluster().forwarded.Load() }

// LeasesHeld counts the stations this node says it holds.
func (s *Server) LeasesHeld() int { return int(s.cluster().held.Load()) }

// TakeoverOf is the station this node's table says took over owner's
// session ("" : none).
func (s *Server) TakeoverOf(owner, session string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tk.byKey[takeoverKey{owner, session}]; t != nil {
		return t.taker
	}
	return ""
}

// BlindTakeovers makes this node register takeovers without looking at
// its own view of the table first: the shared bucket's Create alone then
// decides a conflict (as when two nodes register at the same moment).
// Call before the node serves.
func (s *Server) BlindTakeovers() { s.cluster().blindTakeovers.Store(true) }

// TakeoverRev is the bucket revision of owner's session's takeover as
// this node last saw it (0: none): it moves at each renewal.
func (s *Server) TakeoverRev(owner, session string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tk.byKey[takeoverKey{owner, session}]; t != nil {
		return t.rev
	}
	return 0
}
