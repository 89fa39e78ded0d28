package support

import (
	"net"
	"sync"
	"time"
)

// signedIn is one open remote session on this PC: the account's Logon and
// the streams attached to it. The session ends with its sign-in stream:
// the attached streams are closed then, and the Logon (on Windows a token
// handle) is closed only once they have all returned, so none acts through
// a closed handle, which Windows may already have given to another object.
type signedIn struct {
	logon   Logon
	mu      sync.Mutex
	streams map[net.Conn]bool
	ended   bool
	running sync.WaitGroup
	// left, if set, runs once every attached stream has returned (the
	// activity list's "left" comes after the view's end it caused).
	left func()
}

func newSignedIn(logon Logon) *signedIn {
	return &signedIn{logon: logon, streams: map[net.Conn]bool{}}
}

// attach joins conn to the remote session key names and returns its
// Logon and the release to call when conn's work is done; false when the
// session is closed.
func (a *App) attach(key string, conn net.Conn) (Logon, func(), bool) {
	v, ok := a.remotes.Load(key)
	if !ok {
		return nil, nil, false
	}
	s := v.(*signedIn)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return nil, nil, false
	}
	s.streams[conn] = true
	s.running.Add(1)
	return s.logon, func() {
		s.mu.Lock()
		delete(s.streams, conn)
		s.mu.Unlock()
		s.running.Done()
	}, true
}

// end closes the attached streams and, once they have returned, the
// Logon. It does not wait: a stream may take a moment to notice.
func (s *signedIn) end() {
	s.mu.Lock()
	s.ended = true
	for c := range s.streams {
		// Closing a yamux stream only ends its writing: the deadline ends
		// a read waiting for the station too.
		_ = c.SetDeadline(time.Now())
		c.Close()
	}
	s.mu.Unlock()
	go func() {
		s.running.Wait()
		s.logon.Close()
		if s.left != nil {
			s.left()
		}
	}()
}
