package hubsrv

import "time"

// SetHandshakeTimeout replaces the handshake timeout until restore.
func SetHandshakeTimeout(d time.Duration) (restore func()) {
	old := handshakeTimeout
	handshakeTimeout = d
	return func() { handshakeTimeout = old }
}

// HandshakesFrom is how many TLS handshakes from ip are in progress and
// how many of its connections wait for a turn.
func (s *Server) HandshakesFrom(ip string) (busy, waiting int) { return s.handshakesFrom(ip) }
