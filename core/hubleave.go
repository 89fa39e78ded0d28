package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"adhocstation/core/refusal"
)

// Leaving a hub while PCs paired through it are in session would strand
// them: their app was made for the hub and reaches this station only
// through it. Invitations still waiting whose link leads to the hub would
// be stranded too: the user's link and download would reach a hub that
// says the station is offline. LeaveHub refuses then; EndHubSessions
// cancels those invitations, ends those sessions and waits for the PCs to
// clean up (docs/HUB.md "Leaving a hub").

// ErrHubSessionsOpen is the refusal of LeaveHub while sessions paired
// through the hub are open or invitations whose link leads to it wait;
// the one returned names how many and which. One code for both: it is
// one rule (leaving strands what was made for the hub) with one way out
// (`hub leave --end-sessions`).
var ErrHubSessionsOpen = refusal.New("hub_sessions_open", "Sessions paired through the hub are still open, or invitations whose link leads to the hub still wait: leaving it now would leave their PCs unable to reach this station. End or cancel them first, or use `hub leave --end-sessions`.")

// HubEndWait is how long EndHubSessions waits by default for online PCs to
// pick up their session's end: a PC online through the hub redials its
// live channel at once when the station drops it, learns the end and sends
// its cleanup receipt in a second or two; 30 s leaves room for a slow PC.
const HubEndWait = 30 * time.Second

// HubSessions returns the open sessions whose PC paired through the hub
// this station has joined now (none when it has joined none).
func (s *Station) HubSessions(ctx context.Context) ([]Session, error) {
	cfg, ok, err := s.Hub(ctx)
	if err != nil || !ok {
		return nil, err
	}
	open, err := s.querySessions(ctx, ` WHERE s.state = 'active' AND s.via_hub = ?`, cfg.URL)
	slices.Reverse(open) // oldest first, as a person lists them
	return open, err
}

// HubInvitations returns the prepared sessions (not paired, invitation
// not expired) whose newest invitation's link leads to the hub this
// station has joined now, oldest first (none when it has joined none).
func (s *Station) HubInvitations(ctx context.Context) ([]Session, error) {
	cfg, ok, err := s.Hub(ctx)
	if err != nil || !ok {
		return nil, err
	}
	waiting, err := s.querySessions(ctx, ` WHERE s.state = 'prepared' AND s.invite_hub = ? AND s.invite_expires_at > ?`,
		cfg.URL, ms2(s.now()))
	slices.Reverse(waiting)
	return waiting, err
}

// countHubSessions counts, in tx, the open sessions paired through hubURL
// and the waiting invitations whose link leads to it.
func (s *Station) countHubSessions(ctx context.Context, tx *sql.Tx, hubURL string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE (state = 'active' AND via_hub = ?)
		OR (state = 'prepared' AND invite_hub = ? AND invite_expires_at > ?)`, hubURL, hubURL, ms2(s.now())).Scan(&n)
	return n, err
}

// hubSessionsRefusal is ErrHubSessionsOpen naming the sessions and the
// invitations.
func hubSessionsRefusal(hubURL string, open, waiting []Session) error {
	if len(open) == 0 && len(waiting) == 0 { // closed between the count and the list
		return ErrHubSessionsOpen
	}
	var parts []string
	if len(open) > 0 {
		count := "1 open session comes"
		if len(open) != 1 {
			count = fmt.Sprintf("%d open sessions come", len(open))
		}
		parts = append(parts, fmt.Sprintf("%s through the hub %s: %s. Leaving the hub now would leave these PCs unable to reach this station, "+
			"their support account in place until the session's 24 hours are over. End them first, or use `hub leave --end-sessions` "+
			"(in Settings: Leave hub, then End them and leave).", count, HubHost(hubURL), PCList(open)))
	}
	if len(waiting) > 0 {
		parts = append(parts, hubInvitationsText(hubURL, waiting))
	}
	return refusal.Errorf(ErrHubSessionsOpen.Code, "%s", strings.Join(parts, " "))
}

// hubInvitationsText says which invitations leaving would strand, and
// what to do about them.
func hubInvitationsText(hubURL string, waiting []Session) string {
	n, wait, them, links, fresh := "1 invitation", "still waits for its user", "it", "Its link leads", "a new invitation"
	if len(waiting) != 1 {
		n, wait, them, links, fresh = fmt.Sprintf("%d invitations", len(waiting)), "still wait for their users", "them", "Their links lead", "new invitations"
	}
	return fmt.Sprintf("%s sent through the hub %s %s: %s. %s to the hub, which cannot reach this station "+
		"once it has left, so the user would be told the technician's station is offline. Cancel %s, or use `hub leave --end-sessions`, "+
		"which cancels %s; then send %s, which will reach this station directly.",
		n, HubHost(hubURL), wait, InvitationList(waiting), links, them, them, fresh)
}

// InvitationList names prepared sessions for a sentence: "to
// ann@example.com (session 4), ..." — at most five, then how many more.
func InvitationList(sessions []Session) string {
	return "to " + firstFive(sessions, func(sess Session) string {
		return fmt.Sprintf("%s (session %d)", sess.UserEmail, sess.ID)
	})
}

// PCList names sessions' PCs for a sentence: "DESKTOP-7QK2 (user ann,
// session 3), ..." — at most five, then how many more.
func PCList(sessions []Session) string {
	return firstFive(sessions, func(sess Session) string {
		c := computerFacts(sess)
		return fmt.Sprintf("%s (user %s, session %d)", c.Hostname, c.WindowsUser, sess.ID)
	})
}

// firstFive joins the names of at most five sessions, then says how many
// more: a sentence stays readable however many there are.
func firstFive(sessions []Session, name func(Session) string) string {
	const shown = 5
	var names []string
	for i, sess := range sessions {
		if i == shown {
			names = append(names, fmt.Sprintf("and %d more", len(sessions)-shown))
			break
		}
		names = append(names, name(sess))
	}
	return strings.Join(names, ", ")
}

func computerFacts(sess Session) Computer {
	if sess.Computer == nil {
		return Computer{Hostname: "a PC", WindowsUser: "unknown"}
	}
	return *sess.Computer
}

// HubEnding is what EndHubSessions did.
type HubEnding struct {
	// Cancelled are the invitations it cancelled (their link led to the
	// hub), as they were just before.
	Cancelled []Session
	Ended     []Session // every session it ended, as it was just before
	Told      []Session // of those, the ones whose PC sent its cleanup receipt in time
	NotTold   []Session // the others: offline, or no receipt within the wait
}

// hubEndReason is the close reason of a session ended to leave its hub.
const hubEndReason = "ended by the technician to leave the hub"

// hubCancelReason is the close reason of an invitation cancelled to leave
// the hub its link led to.
const hubCancelReason = "cancelled by the technician to leave the hub"

// EndHubSessions cancels the waiting invitations whose link leads to the
// hub joined now (HubInvitations), then ends every open session paired
// through it, as the technician's End does (audited; a running station drops the
// PC's live channel), then waits up to wait for each PC that was online
// to pick the end up: its app redials through the hub, is told the session
// ended, removes the account and itself and sends its cleanup receipt,
// which is what this waits for — so the hub must stay joined meanwhile.
// A PC offline then cannot be told before the hub is left; it is in
// NotTold, as is one whose receipt did not come in time.
func (s *Station) EndHubSessions(ctx context.Context, wait time.Duration) (HubEnding, error) {
	var out HubEnding
	// Invitations first, as the technician's Cancel does (audited, the
	// seat freed): nothing to wait for, their user has no app yet.
	waitingInv, err := s.HubInvitations(ctx)
	if err != nil {
		return out, err
	}
	for _, sess := range waitingInv {
		err := s.closeBy(ctx, sess.ID, StatePrepared, StateCancelled, hubCancelReason, EventCancelled, ErrNotPrepared)
		if errors.Is(err, ErrNotPrepared) {
			continue // paired or closed meanwhile: LeaveHub counts it if it paired through the hub
		}
		if err != nil {
			return out, err
		}
		out.Cancelled = append(out.Cancelled, sess)
	}
	open, err := s.HubSessions(ctx)
	if err != nil {
		return out, err
	}
	waiting := map[int64]bool{} // session → its PC was online at the end
	for _, sess := range open {
		err := s.closeBy(ctx, sess.ID, StateActive, StateEnded, hubEndReason, EventEnded, ErrSessionClosed)
		if err != nil && !errors.Is(err, ErrSessionClosed) {
			return out, err
		}
		out.Ended = append(out.Ended, sess)
		waiting[sess.ID] = sess.Computer != nil && sess.Computer.Online
	}
	told := map[int64]Session{}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	// The receipt is written by the running station, maybe another
	// process: the rows are read again every 100 ms rather than waiting
	// for this process's events.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		online := 0
		for _, sess := range out.Ended {
			if _, ok := told[sess.ID]; ok {
				continue
			}
			cur, err := s.Session(ctx, sess.ID)
			if err != nil {
				return out, err
			}
			if cur.Computer != nil && cur.Computer.CleanedUp {
				told[sess.ID] = cur
			} else if waiting[sess.ID] {
				online++
			}
		}
		if online == 0 {
			break
		}
		select {
		case <-tick.C:
			continue
		case <-deadline.C:
		case <-ctx.Done():
			return out, ctx.Err()
		}
		break
	}
	for _, sess := range out.Ended {
		if cur, ok := told[sess.ID]; ok {
			out.Told = append(out.Told, cur)
		} else {
			out.NotTold = append(out.NotTold, sess)
		}
	}
	return out, nil
}

// LeaveHubEndingSessions is EndHubSessions, then LeaveHub: what `hub leave
// --end-sessions` and Settings' "End them and leave" do. The hub is left
// even if some PCs were not told (HubEnding.NotTold says which); it is not
// left if a PC paired through it, or an invitation through it was sent,
// meanwhile (ErrHubSessionsOpen again).
func (s *Station) LeaveHubEndingSessions(ctx context.Context, wait time.Duration) (HubEnding, error) {
	end, err := s.EndHubSessions(ctx, wait)
	if err != nil {
		return end, err
	}
	return end, s.LeaveHub(ctx)
}
