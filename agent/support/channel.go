package support

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/yamux"

	"adhocstation/core/wire"
)

// ChannelTiming tunes the live channel; the zero value means the defaults.
type ChannelTiming struct {
	// KeepAlive is the ping interval and Timeout how long a ping may go
	// unanswered before the channel counts as cut (2 s each).
	KeepAlive, Timeout time.Duration
	// MinBackoff and MaxBackoff bound the jittered wait between tries to
	// reconnect (1 s doubling up to 30 s).
	MinBackoff, MaxBackoff time.Duration
}

func (t ChannelTiming) withDefaults() ChannelTiming {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.KeepAlive, 2*time.Second)
	def(&t.Timeout, 2*time.Second)
	def(&t.MinBackoff, time.Second)
	def(&t.MaxBackoff, 30*time.Second)
	return t
}

// fastTries is how many failed tries in a row wait only MinBackoff: a
// short outage (Wi-Fi roaming, a router restarting, the station
// restarting) is over within them and the PC is online again about a
// second after the network; only after them does the wait grow towards
// MaxBackoff, for a station that stays away.
const fastTries = 15

// backoff is the wait after failed try n (0-based): MinBackoff for the
// first fastTries, then doubling up to MaxBackoff, jittered down to half
// so a station restart is not met by every PC in the same instant.
func (t ChannelTiming) backoff(n int) time.Duration {
	d := t.MinBackoff
	for i := fastTries - 1; i < n && d < t.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, t.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// OpenChannel dials the station (pinned like the API calls) and upgrades
// the connection to the live channel. It returns the yamux session, or,
// when the session is over, a nil session and the station's answer saying
// how it ended. Refusals come back as *wire.Error; ErrWrongStation and
// *OfflineError as they are.
func (c *Client) OpenChannel(ctx context.Context, agentKey string, t ChannelTiming) (*yamux.Session, wire.StatusResponse, error) {
	var st wire.StatusResponse
	t = t.withDefaults()
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := c.dialStation(dctx, []string{"http/1.1"}) // the upgrade is HTTP/1.1's
	if err != nil {
		if errors.Is(err, ErrWrongStation) {
			return nil, st, ErrWrongStation
		}
		if w, ok := refusal(err); ok {
			return nil, st, w // the hub's: the session has ended
		}
		return nil, st, &OfflineError{Err: err}
	}
	// The upgrade's answer must come within the same bound as the dial.
	deadline, _ := dctx.Deadline()
	_ = conn.SetDeadline(deadline)
	u := url.URL{Scheme: "https", Host: c.host, Path: wire.APIPrefix + wire.ChannelPath}
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", wire.ChannelProtocol)
	req.Header.Set("Authorization", "Bearer "+agentKey)
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, st, &OfflineError{Err: err}
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, st, &OfflineError{Err: err}
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer conn.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err != nil {
			return nil, st, &OfflineError{Err: err}
		}
		if resp.StatusCode == http.StatusOK && json.Unmarshal(data, &st) == nil && st.State != "" {
			return nil, st, nil
		}
		var werr wire.Error
		if json.Unmarshal(data, &werr) != nil || werr.Code == "" {
			return nil, st, &OfflineError{Err: fmt.Errorf("the station answered HTTP %d to the live channel", resp.StatusCode)}
		}
		return nil, st, &werr
	}
	_ = conn.SetDeadline(time.Time{})
	ycfg := yamux.DefaultConfig()
	ycfg.KeepAliveInterval, ycfg.ConnectionWriteTimeout = t.KeepAlive, t.Timeout
	ycfg.LogOutput = io.Discard
	ycfg.MaxStreamWindowSize = 4 << 20 // as the station's: for file transfers (core/pairing/channel.go)
	ys, err := yamux.Client(readerConn{Conn: conn, r: br}, ycfg)
	if err != nil {
		conn.Close()
		return nil, st, &OfflineError{Err: err}
	}
	return ys, wire.StatusResponse{State: "active"}, nil
}

// readerConn reads through the reader that parsed the upgrade's answer.
type readerConn struct {
	net.Conn
	r *bufio.Reader
}

func (c readerConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// keepChannel holds the live channel for the session's life: it reports
// each change of link (true: up) and reconnects with jittered backoff
// until ctx ends or the station says the session is over, whose reason it
// sends on over.
func (a *App) keepChannel(ctx context.Context, c *Client, st State, link chan<- bool, over chan<- string) {
	t := a.Channel.withDefaults()
	report := func(up bool) {
		select {
		case link <- up:
		case <-ctx.Done():
		}
	}
	for try := 0; ; try++ {
		ys, status, err := c.OpenChannel(ctx, st.AgentKey, t)
		switch {
		case err == nil && ys == nil:
			over <- endReason(status.State)
			return
		case err == nil:
			a.Log.Printf("the live channel to the station is up")
			go a.ServeChannel(ys, st.Technician)
			report(true)
			up := time.Now()
			select {
			case <-ys.CloseChan():
				a.Log.Printf("the live channel to the station closed; reconnecting")
			case <-ctx.Done():
				ys.Close()
				return
			}
			report(false)
			try = -1 // the loop's increment makes the next try the first
			if time.Since(up) >= t.KeepAlive {
				continue // a channel that was up reconnects at once; one dropped at once waits
			}
		default:
			w, answered := refusal(err)
			if answered && (w.Code == wire.CodeUnknownToken || w.Code == wire.CodeSessionClosed) {
				over <- reasonUnknown
				return
			}
			if answered && w.Code == wire.CodeSessionEnded {
				// The hub refused: the session's end has passed, by its clock.
				over <- reasonTimeUp
				return
			}
			if try == 0 {
				a.Log.Printf("live channel: %v", err)
			}
			if answered {
				try = max(try, fastTries) // the station is there and refused (busy, rate limit): back off
			}
			report(false)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(t.backoff(try)):
		}
	}
}

// endReason turns a closed session's state into the reason the user reads.
func endReason(state string) string {
	if state == "expired" {
		return reasonTimeUp
	}
	return reasonTechEnded
}
