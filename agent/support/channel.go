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
// *OfflineError as they are. The owner's 101 answer replaces the team's
// pins (SetTeamPins); a channel a teammate's station serves changes
// nothing, and its other answers come as an *OfflineError (ErrNotOwner).
func (c *Client) OpenChannel(ctx context.Context, agentKey string, t ChannelTiming) (*yamux.Session, wire.StatusResponse, error) {
	ys, st, _, err := c.openChannel(ctx, agentKey, t)
	return ys, st, err
}

// channelInfo tells keepChannel who served an open channel and what became
// of the team's pins.
type channelInfo struct {
	team bool // served by a teammate's station (a take over)
	// pinsChanged is set when the owner's list replaced the team's pins;
	// pinsErr when its list could not be read (the pins stay).
	pinsChanged bool
	pinsErr     error
}

func (c *Client) openChannel(ctx context.Context, agentKey string, t ChannelTiming) (*yamux.Session, wire.StatusResponse, channelInfo, error) {
	var st wire.StatusResponse
	var info channelInfo
	t = t.withDefaults()
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := c.dialStation(dctx, []string{"http/1.1"}) // the upgrade is HTTP/1.1's
	if err != nil {
		if errors.Is(err, ErrWrongStation) {
			return nil, st, info, ErrWrongStation
		}
		if w, ok := refusal(err); ok {
			return nil, st, info, w // the hub's: the session has ended
		}
		return nil, st, info, &OfflineError{Err: err}
	}
	// Which pins the peer matched is fixed by this connection's handshake.
	owner := c.connPeer(conn) == peerOwner
	info.team = !owner
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
		return nil, st, info, &OfflineError{Err: err}
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, st, info, &OfflineError{Err: err}
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer conn.Close()
		if !owner {
			// Only the owner may say the session is over: a teammate's
			// refusal (it may have let the PC go already) is tried again.
			return nil, st, info, &OfflineError{Err: fmt.Errorf("%w (it answered HTTP %d to the live channel)", ErrNotOwner, resp.StatusCode)}
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err != nil {
			return nil, st, info, &OfflineError{Err: err}
		}
		if resp.StatusCode == http.StatusOK && json.Unmarshal(data, &st) == nil && st.State != "" {
			return nil, st, info, nil
		}
		var werr wire.Error
		if json.Unmarshal(data, &werr) != nil || werr.Code == "" {
			return nil, st, info, &OfflineError{Err: fmt.Errorf("the station answered HTTP %d to the live channel", resp.StatusCode)}
		}
		if werr.Code == wire.CodeNotOwner {
			return nil, st, info, &OfflineError{Err: fmt.Errorf("%w (%s)", ErrNotOwner, werr.Message)}
		}
		return nil, st, info, &werr
	}
	if owner {
		// The owner's list replaces the team's pins before the channel is
		// used, so a teammate that takes the PC over next is accepted; an
		// absent or empty header is no team.
		pins, err := parseTeamPins(resp.Header.Get(wire.TeamPinsHeader))
		if err == nil {
			info.pinsChanged, err = c.SetTeamPins(pins)
		}
		info.pinsErr = err
	}
	_ = conn.SetDeadline(time.Time{})
	ycfg := yamux.DefaultConfig()
	ycfg.KeepAliveInterval, ycfg.ConnectionWriteTimeout = t.KeepAlive, t.Timeout
	ycfg.LogOutput = io.Discard
	ycfg.MaxStreamWindowSize = 4 << 20 // as the station's: for file transfers (core/pairing/channel.go)
	ys, err := yamux.Client(readerConn{Conn: conn, r: br}, ycfg)
	if err != nil {
		conn.Close()
		return nil, st, info, &OfflineError{Err: err}
	}
	return ys, wire.StatusResponse{State: "active"}, info, nil
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
//
// A change of the team's pins the owner brings is signalled on pins (never
// blocking: the session reads the client's latest list into its record).
func (a *App) keepChannel(ctx context.Context, c *Client, st State, link chan<- bool, pins chan<- struct{}, over chan<- string) {
	t := a.Channel.withDefaults()
	report := func(up bool) {
		select {
		case link <- up:
		case <-ctx.Done():
		}
	}
	for try := 0; ; try++ {
		ys, status, info, err := c.openChannel(ctx, st.AgentKey, t)
		switch {
		case err == nil && ys == nil:
			over <- endReason(status.State)
			return
		case err == nil:
			if info.team {
				a.Log.Printf("the live channel is up, served by a station of the technician's team (a take over)")
			} else {
				a.Log.Printf("the live channel to the station is up")
			}
			if info.pinsErr != nil {
				a.Log.Printf("the team's certificates stay as they were: %v", info.pinsErr)
			}
			go a.ServeChannel(ys, st.Technician)
			report(true)
			if info.pinsChanged {
				a.Log.Printf("the station's team now has %d other station(s) that may take this PC over", len(c.TeamPins()))
				select {
				case pins <- struct{}{}:
				default: // one is pending: the session reads the latest list
				}
			}
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
