package hubsrv

// CutIdle runs the idle sweep once by the hub's clock (tests move that
// clock instead of waiting for the sweep's ticker).
func (s *Server) CutIdle() int { return s.cutIdle() }
