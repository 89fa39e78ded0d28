package pipe

import (
	"sync"

	"adhocstation/agent/support"
	"adhocstation/core/wire"
)

// The activity list's relay on the pipe (agent/support's activity.go):
// the service hands the hub the whole list at each action; the hub keeps
// the newest and each tray's writer sends what that tray has not had yet.
// A burst of actions is one frame per tray, not one per action, so the
// list never fills a tray's bounded queue and never waits on a tray. Like
// the chat, the list goes only to the trays of the console session (asked
// at each send): it is for the person at the screen; a tray whose
// session becomes the console gets it all at its next send.

// activityHub is the hub's newest list.
type activityHub struct {
	mu   sync.Mutex
	list wire.Activity
}

// activityPeer is a tray's side: a kick (one pending at most) and the
// last entry sent to it.
type activityPeer struct {
	h    *Hub
	who  Caller
	kick chan struct{}
	sent uint64
}

// attachActivity gives a tray its activity feed, with a kick for the list
// it joins to; the hub sends the rest as the list grows.
func (h *Hub) attachActivity(p *peer, who Caller) {
	if p.role != RoleTray {
		return
	}
	p.act = &activityPeer{h: h, who: who, kick: make(chan struct{}, 1)}
	p.act.kick <- struct{}{}
}

// ShowActivity takes the newest list and kicks every tray's writer.
func (h *Hub) ShowActivity(list wire.Activity) {
	h.activity.mu.Lock()
	h.activity.list = list
	h.activity.mu.Unlock()
	h.kickActivity()
}

// kickActivity wakes each tray's writer; it never waits.
func (h *Hub) kickActivity() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for p := range h.peers {
		if p.act != nil {
			select {
			case p.act.kick <- struct{}{}:
			default: // one is pending: it sends the newest list
			}
		}
	}
}

// kicked is the tray's kick, nil (never ready) for other helpers.
func (a *activityPeer) kicked() <-chan struct{} {
	if a == nil {
		return nil
	}
	return a.kick
}

// next is the frame the tray is owed, if any: the entries after the last
// one it was sent, or the whole list when it has none of it or missed
// entries the service no longer keeps. Only p's writer calls it.
func (a *activityPeer) next() (frame, bool) {
	if !a.h.atConsole(a.who) {
		return frame{}, false
	}
	a.h.activity.mu.Lock()
	list := a.h.activity.list // never changed in place: ShowActivity replaces it
	a.h.activity.mu.Unlock()
	n := len(list.Entries)
	if n == 0 {
		return frame{}, false
	}
	first, last := list.Entries[0].Seq, list.Entries[n-1].Seq
	u := support.ActivityUpdate{Entries: list.Entries}
	switch {
	case a.sent == last:
		return frame{}, false
	case a.sent == 0 || a.sent+1 < first || a.sent > last:
		u.Full, u.Earlier = true, list.Earlier
	default:
		for i, e := range list.Entries {
			if e.Seq > a.sent {
				u.Entries = list.Entries[i:]
				break
			}
		}
	}
	a.sent = last
	return frame{Activity: &u}, true
}

var _ support.ActivityShower = (*Hub)(nil)
