package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// A hopeless pairing attempt is one that cannot succeed whatever code it
// carries: an unknown or closed link, or a burned code. Such attempts guess
// nothing (links are unguessable and the code's tries are spent), so they
// are answered from a read and counted in memory, not written one by one:
// otherwise a flood from rotating addresses (an IPv6 network has endless
// ones) would write rows without limit.
//
// hopelessBudget is how many of them the station answers normally each
// minute, from all addresses together; past it they are refused with
// FloodError until the minute ends. Real pairings are never counted.
const hopelessBudget = 60

// maxFloodAddresses bounds the memory used to count a minute's addresses.
const maxFloodAddresses = 10000

// FloodError refuses a hopeless pairing attempt because too many reached
// the station this minute. It matches ErrRateLimited.
type FloodError struct{ RetryAfter time.Duration }

func (e *FloodError) Error() string {
	return "The station is receiving too many pairing attempts with links that do not work. Try again in a minute."
}
func (e *FloodError) Is(target error) bool { return target == ErrRateLimited }
func (e *FloodError) RefusalCode() string  { return ErrRateLimited.Code }

// floodMinute counts one minute of hopeless attempts.
type floodMinute struct {
	start    time.Time
	attempts int             // hopeless attempts seen, against the budget
	quiet    int             // refused without an audit row of their own
	busy     int             // of which over the budget
	addrs    map[string]bool // the quiet ones' addresses, at most maxFloodAddresses
	audited  map[int64]bool  // sessions (0: unknown links) already audited one by one
	lastSeen time.Time       // of the last quiet refusal
	merged   bool            // the summary spans several minutes
}

// floodGuard holds the budget and the minute's count; the count becomes
// one audit row when the minute is over (see floodTick).
type floodGuard struct {
	mu        sync.Mutex
	cur       floodMinute
	due       *floodMinute // ended minutes whose summary is not written yet
	nextPrune time.Time
}

type floodVerdict int

const (
	floodQuiet      floodVerdict = iota // refuse, count in the summary
	floodAuditOne                       // the first of its kind this minute: audit it one by one
	floodOverBudget                     // refuse with FloodError, count in the summary
)

// admit counts a hopeless attempt from addr on session (0: unknown link).
func (g *floodGuard) admit(addr string, session int64, now time.Time) (floodVerdict, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.roll(now)
	c := &g.cur
	if c.start.IsZero() {
		c.start, c.addrs, c.audited = now, map[string]bool{}, map[int64]bool{}
	}
	c.attempts++
	if c.attempts <= hopelessBudget && !c.audited[session] {
		c.audited[session] = true
		return floodAuditOne, 0
	}
	g.countQuiet(addr, now)
	if c.attempts > hopelessBudget {
		c.busy++
		return floodOverBudget, c.start.Add(addressWindow).Sub(now)
	}
	return floodQuiet, 0
}

// quiet counts a refusal that gets no audit row of its own.
func (g *floodGuard) quiet(addr string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.roll(now)
	g.countQuiet(addr, now)
}

func (g *floodGuard) countQuiet(addr string, now time.Time) {
	c := &g.cur
	if c.start.IsZero() {
		c.start, c.addrs, c.audited = now, map[string]bool{}, map[int64]bool{}
	}
	c.quiet++
	c.lastSeen = now
	if len(c.addrs) < maxFloodAddresses {
		c.addrs[addr] = true
	}
}

// roll moves an ended minute with quiet refusals to due.
func (g *floodGuard) roll(now time.Time) {
	c := g.cur
	if c.start.IsZero() || now.Sub(c.start) < addressWindow {
		return
	}
	g.cur = floodMinute{}
	if c.quiet == 0 {
		return
	}
	if g.due == nil {
		g.due = &c
		return
	}
	// A summary could not be written last time: add this minute to it.
	d := g.due
	d.quiet, d.busy, d.lastSeen, d.merged = d.quiet+c.quiet, d.busy+c.busy, c.lastSeen, true
	for a := range c.addrs {
		if len(d.addrs) >= maxFloodAddresses {
			break
		}
		d.addrs[a] = true
	}
}

// summary is the audit row for m.
func (m *floodMinute) summary() string {
	addrs := fmt.Sprintf("%d addresses", len(m.addrs))
	switch {
	case len(m.addrs) == 1:
		addrs = "1 address"
	case len(m.addrs) >= maxFloodAddresses:
		addrs = fmt.Sprintf("%d or more addresses", maxFloodAddresses)
	}
	when := "in the minute from " + m.start.Format("15:04:05 UTC")
	if m.merged {
		when = "between " + m.start.Format("15:04:05") + " and " + m.lastSeen.Format("15:04:05 UTC")
	}
	out := fmt.Sprintf("%d pairing attempts with unknown or unusable links from %s %s were refused without being logged one by one",
		m.quiet, addrs, when)
	if m.busy > 0 {
		out += fmt.Sprintf("; %d of them came after the station-wide limit of %d such attempts a minute was reached", m.busy, hopelessBudget)
	}
	return out
}

// screenHopeless answers a hopeless pairing attempt without writing, unless
// it is the first of its kind this minute (which Pair audits as before).
// It reports whether the attempt was answered, and the refusal.
func (s *Station) screenHopeless(ctx context.Context, req PairRequest, addr string, now time.Time) (bool, error) {
	sess, err := s.Invitation(ctx, req.Token)
	var refusal error
	switch {
	case errors.Is(err, ErrUnknownToken):
		refusal, sess.ID = ErrUnknownToken, 0
	case errors.Is(err, ErrInvitationExpired) && sess.State == StateActive:
		refusal = ErrAlreadyPaired
	case errors.Is(err, ErrInvitationExpired):
		refusal = ErrInvitationExpired
	case err != nil:
		return true, err
	case sess.CodeBurned():
		refusal = ErrCodeBurned
	default:
		return false, nil
	}
	// An address that spent its tries is refused before it can use the
	// budget, and the pairing service then answers it from memory.
	if wait := s.limit.over(addr, now); wait > 0 {
		s.flood.quiet(addr, now)
		return true, &RateLimitError{RetryAfter: wait}
	}
	verdict, wait := s.flood.admit(addr, sess.ID, now)
	switch verdict {
	case floodOverBudget:
		s.limit.count(addr, now)
		return true, &FloodError{RetryAfter: wait}
	case floodAuditOne:
		return false, nil
	}
	// Still counted per address, in memory only: these windows are not
	// worth a write, and a restart forgets nothing that could be guessed.
	if _, retry, _ := s.limit.take(addr, now); retry > 0 {
		return true, &RateLimitError{RetryAfter: retry}
	}
	return true, refusal
}

// floodTick writes the summary of a minute of quiet refusals once it is
// over, and deletes ended per-address windows (once a minute, or at once
// while a full batch was deleted last time).
func (s *Station) floodTick(ctx context.Context, now time.Time) error {
	g := &s.flood
	g.mu.Lock()
	g.roll(now)
	due := g.due
	g.due = nil
	prune := !now.Before(g.nextPrune)
	g.mu.Unlock()
	if due != nil {
		detail := due.summary()
		err := s.write(ctx, func(tx *sql.Tx) error { return s.audit(tx, 0, 0, "pairing refused", detail) })
		if err != nil {
			g.mu.Lock()
			if g.due == nil {
				g.due = due // written next tick
			}
			g.mu.Unlock()
			return err
		}
		s.publish(Event{Kind: EventRefused, Detail: detail})
	}
	if !prune {
		return nil
	}
	more, err := s.pruneWindows(ctx, now)
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.nextPrune = now.Add(addressWindow)
	if more {
		g.nextPrune = now
	}
	g.mu.Unlock()
	return nil
}
