package core

import (
	"sync"
	"time"
)

// EventKind names a change the station publishes.
type EventKind string

const (
	EventPrepared        EventKind = "prepared"
	EventCodeRegenerated EventKind = "code_regenerated"
	EventPaired          EventKind = "paired"
	EventAccountReady    EventKind = "account_ready"
	EventExpired         EventKind = "expired"
	EventEnded           EventKind = "ended"
	EventCancelled       EventKind = "cancelled"
	EventEmail           EventKind = "email"
	EventComputerOnline  EventKind = "computer_online"
	EventComputerOffline EventKind = "computer_offline"
	EventCleanedUp       EventKind = "cleaned_up"
	EventRefused         EventKind = "refused" // a pairing attempt was refused
	EventExpiringSoon    EventKind = "expiring_soon"
	EventProfiles        EventKind = "profiles"
	EventSettings        EventKind = "settings"
	// EventLagged tells a subscriber it missed events and should reload all.
	EventLagged EventKind = "lagged"
)

// Event is one published change.
type Event struct {
	Kind      EventKind
	SessionID int64 // 0 when not about one session
	At        time.Time
	Detail    string
}

// subscriberBuffer is generous because events are small and rare; a
// subscriber that still falls behind gets EventLagged instead of stalling
// the publisher.
const subscriberBuffer = 256

// Subscription receives events on C until Close is called.
type Subscription struct {
	C      <-chan Event
	c      chan Event
	hub    *hub
	lagged bool
}

// Close stops delivery and closes C.
func (s *Subscription) Close() { s.hub.remove(s) }

type hub struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

func newHub() *hub { return &hub{subs: map[*Subscription]struct{}{}} }

func (h *hub) subscribe() *Subscription {
	c := make(chan Event, subscriberBuffer)
	s := &Subscription{C: c, c: c, hub: h}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *hub) remove(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.c)
	}
}

// publish never blocks: a full subscriber is marked lagged and told so as
// soon as it has room again.
func (h *hub) publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.lagged {
			select {
			case s.c <- Event{Kind: EventLagged, At: e.At}:
				s.lagged = false
			default:
				continue
			}
		}
		select {
		case s.c <- e:
		default:
			s.lagged = true
		}
	}
}

func (h *hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		delete(h.subs, s)
		close(s.c)
	}
}
