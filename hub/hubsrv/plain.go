package hubsrv

import (
	"bytes"
	"crypto/subtle"
	"io"
	"net"
	"strings"
	"time"

	"adhocstation/core/hublink"
)

// A station's plain data leg (hublink.ControlMessage.DataKey): a TCP
// connection to the hub's port that greets with the relay's id and its
// one-time key instead of a TLS handshake. The hub then sees of the relay
// what it sees through a data WebSocket, the pinned TLS between app and
// station, but neither end seals it a second time for the hub, which is
// most of what a relayed transfer costs (docs/PERFORMANCE.md).

// SetPlainDataLegs says whether the hub offers stations plain data legs
// (on by default; a node of a cluster never does: a station's leg could
// reach another node, which cannot forward it). Relays already offered
// one keep the offer.
func (s *Server) SetPlainDataLegs(on bool) {
	s.mu.Lock()
	s.plainOffer = on
	s.mu.Unlock()
}

// maxPlainHello bounds the greeting: the prefix, two 26-letter tokens.
const maxPlainHello = 128

// plainLeg takes a connection whose first byte was not a TLS handshake's,
// under the handshake's deadline. A greeting for a relay waiting on this
// node, with its key, is answered PlainOK and handed to the relay; any
// other is closed, and a wrong key counts against its address as a wrong
// station credential does.
func (s *Server) plainLeg(c net.Conn) {
	addr, now := addrKey(c.RemoteAddr().String()), s.now()
	lim := s.authLimiter()
	if lim.wait(addr, now) > 0 {
		c.Close()
		return
	}
	rid, key, ok := readPlainHello(c)
	var p *pending
	if ok {
		s.mu.Lock()
		if q := s.pending[rid]; q != nil && q.dataKey != "" && subtle.ConstantTimeCompare([]byte(q.dataKey), []byte(key)) == 1 {
			delete(s.pending, rid) // one station connection per relay
			p = q
			s.plainLegs++
		}
		s.mu.Unlock()
	}
	if p == nil {
		lim.add(addr, now)
		c.Close()
		return
	}
	if _, err := io.WriteString(c, hublink.PlainOK); err != nil {
		c.Close() // the app's wait for its station ends by itself
		return
	}
	c.SetDeadline(time.Time{})
	select {
	case p.got <- stationEnd{plain: &plainEnd{c}}:
	case <-p.done: // the app's wait ended just as this arrived
		c.Close()
	}
}

// readPlainHello reads PlainHello + id + " " + key + "\n". The station
// sends nothing more until it has read PlainOK, so a read that brings
// more than the line is no station.
func readPlainHello(c net.Conn) (rid, key string, ok bool) {
	buf := make([]byte, 0, maxPlainHello)
	for len(buf) < maxPlainHello {
		n, err := c.Read(buf[len(buf):maxPlainHello])
		buf = buf[:len(buf)+n]
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			if i != len(buf)-1 {
				return "", "", false
			}
			rest, ok := strings.CutPrefix(string(buf[:i]), hublink.PlainHello)
			if !ok {
				return "", "", false
			}
			rid, key, ok = strings.Cut(rest, " ")
			return rid, key, ok && rid != "" && key != ""
		}
		if err != nil {
			return "", "", false
		}
	}
	return "", "", false
}
