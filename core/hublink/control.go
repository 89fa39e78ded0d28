package hublink

import "net"

// controlled is a stream that knows the hub's message that asked for it.
type controlled interface {
	Control() ControlMessage
}

// ControlOf is the hub's control message for a stream Link.Accept (or
// Link.HTTP's listener) handed out, found through the wrappers the
// station puts around it: Deadlines, a *tls.Conn, or any conn with a
// NetConn() net.Conn method. ok is false for a conn that did not come
// from the hub (a direct connection).
func ControlOf(c net.Conn) (m ControlMessage, ok bool) {
	// A bounded walk: wrappers are a few deep; a conn whose NetConn
	// returned itself must not loop.
	for range 16 {
		switch x := c.(type) {
		case nil:
			return ControlMessage{}, false
		case controlled:
			m := x.Control()
			return m, m.Type != ""
		case interface{ NetConn() net.Conn }:
			next := x.NetConn()
			if next == c {
				return ControlMessage{}, false
			}
			c = next
		default:
			return ControlMessage{}, false
		}
	}
	return ControlMessage{}, false
}

// Control forwards the message of the stream Deadlines wraps (empty when
// it is not a relayed stream), so ControlOf sees through Deadlines.
func (d *deadlineConn) Control() ControlMessage {
	m, _ := ControlOf(d.Conn)
	return m
}
