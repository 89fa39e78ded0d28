package hubtest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
)

// Firewall stands for a network that lets only TLS out on port 443: a
// connection whose first bytes are not a TLS handshake is cut, as a
// station's plain data leg would be (docs/HUB.md "Plain data legs").
type Firewall struct {
	cut atomic.Int32
}

// Client is c with its connections going through the firewall (c's
// transport must be an *http.Transport; its TLS settings are kept).
func (f *Firewall) Client(c *http.Client) *http.Client {
	tr := c.Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &tlsOnly{Conn: conn, f: f}, nil
	}
	return &http.Client{Transport: tr}
}

// Cut is how many connections the firewall cut.
func (f *Firewall) Cut() int { return int(f.cut.Load()) }

type tlsOnly struct {
	net.Conn
	f       *Firewall
	checked bool
}

func (c *tlsOnly) Write(p []byte) (int, error) {
	if !c.checked && len(p) > 0 {
		c.checked = true
		if p[0] != 0x16 { // a TLS connection's first record is a handshake
			c.f.cut.Add(1)
			c.Conn.Close()
			return 0, errors.New("connection reset by the firewall")
		}
	}
	return c.Conn.Write(p)
}
