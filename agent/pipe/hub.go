// Package pipe is the service's pipe and the helpers on it: the Hub, the
// service's UI, which asks the setup helper and tells the trays, relays the
// chat and parks the screen helper's connections for agent/screen's Relay;
// RunHelper, a helper's side. It imports agent/support (the UI it
// implements), agent/screen, agent/applog and core/wire; agent/support
// does not import it.
package pipe

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"sync"
	"time"

	"adhocstation/agent/applog"
	"adhocstation/agent/screen"
	"adhocstation/agent/support"
	"adhocstation/core/wire"
)

// Roles a helper announces when it connects to the service's pipe.
const (
	// RoleSetup is the first run from the download: it answers the consent
	// and security-code questions. Only an elevated administrator may.
	RoleSetup = "setup"
	// RoleTray is the helper in each signed-in user's session: it shows
	// the status and may end the session.
	RoleTray = "tray"
)

// Caller is who is on the other end of a pipe connection, as the operating
// system reports it (never as the caller claims).
type Caller struct {
	User  string
	Admin bool // elevated administrator or SYSTEM
	// System, Console and Installed together admit the screen helper: a
	// SYSTEM process in the active console session running the installed
	// program (not a copy elsewhere, which someone else may have changed).
	System    bool
	Console   bool // in the active console session when it connected
	Installed bool
	// Session is the caller's Windows session (Hub.AtConsole compares it
	// with the console's when a chat message is shown).
	Session uint32
}

// mayBeScreenHelper reports whether who may serve the screen.
func (who Caller) mayBeScreenHelper() bool { return who.System && who.Console && who.Installed }

// frame is one JSON line on the pipe, in either direction.
type frame struct {
	Hello     string               `json:"hello,omitempty"` // helper → service, first line: its role
	Status    *support.Status      `json:"status,omitempty"`
	Tell      *support.Message     `json:"tell,omitempty"`
	Consent   *support.Consent     `json:"consent,omitempty"` // a question for the setup helper
	Code      *support.CodeRequest `json:"code,omitempty"`
	SetupDone bool                 `json:"setup_done,omitempty"` // the session runs: the setup helper may exit
	Agree     bool                 `json:"agree,omitempty"`      // answers, setup → service
	Answer    string               `json:"answer,omitempty"`
	Cancel    bool                 `json:"cancel,omitempty"`
	End       bool                 `json:"end,omitempty"` // tray → service: End support session and remove app
	// The chat (chat.go): a tray that can show it says so in its hello;
	// messages go both ways.
	CanChat bool      `json:"can_chat,omitempty"`
	Chat    *chatLine `json:"chat,omitempty"`
	// The remote screen (screenhost.go).
	Viewing  *Viewing `json:"viewing,omitempty"`   // service → tray: a technician started or stopped viewing the screen
	StopView bool     `json:"stop_view,omitempty"` // tray → service: stop every view of the screen
	// The activity list (activity.go): service → tray.
	Activity *support.ActivityUpdate `json:"activity,omitempty"`
}

// Viewing is what a tray is told when a technician's screen view starts or
// ends.
type Viewing struct {
	Who string `json:"who"`
	On  bool   `json:"on"`
}

// Hub is the service's UI (support.UI): it has no window of its own and asks and tells
// through the helpers connected to its pipe.
type Hub struct {
	// Who names the caller of a connection (named-pipe client token on
	// Windows); a connection it cannot name is closed.
	Who func(net.Conn) (Caller, error)
	// SetupWait is how long a question waits for a setup helper.
	SetupWait time.Duration
	Clock     support.Clock
	Log       *applog.Logger
	// OnJoin, if set, learns each helper that joined (for logs and tests).
	OnJoin func(role string, who Caller)
	// Screens, if set, receives the screen helper's connections.
	Screens *screen.Relay
	// AtConsole reports whether who's session is the console's now (the
	// console changes with a user switch or a disconnect); nil trusts
	// Caller.Console as named when the caller connected.
	AtConsole func(who Caller) bool

	mu       sync.Mutex
	peers    map[*peer]bool
	setup    *peer
	setupCh  chan struct{} // closed when a setup helper connects
	status   *support.Status
	started  bool
	closed   bool
	end      chan struct{}
	listener net.Listener
	chat     chatHub
	viewStop chan struct{}  // closed when a tray asks to stop viewing
	conns    map[string]int // open connections per caller (Caller.User)
	activity activityHub
}

// maxConnsPerCaller bounds one Windows user's connections to the pipe
// (counted from accept, before the hello): a user has a tray per signed-in
// session and perhaps the setup helper; more is a user holding the
// service's goroutines and queues. SYSTEM (the screen helper, the service
// itself) is not counted.
const maxConnsPerCaller = 4

type peer struct {
	conn    net.Conn
	role    string
	answers chan frame
	gone    chan struct{}
	// out is the peer's bounded outgoing queue, written by its own writer
	// goroutine (writeLoop): the session's loop only ever queues, so a
	// helper that stops reading delays nobody; it is closed instead.
	out       chan frame
	flush     chan struct{} // closed by Hub.Close: write what is queued, then close
	flushOnce sync.Once
	written   chan struct{} // closed when writeLoop returns
	// asked is set once the service asked this setup helper a question: only
	// that one started the session; any other is told a session runs.
	asked bool
	// act is a tray's activity feed (activity.go); nil for other helpers.
	act *activityPeer
}

// Bounds of a helper's outgoing queue. A tray gets a status per heartbeat
// and the odd message or chat line; 64 unread frames means it has stopped
// reading (or never did), and writeWait bounds one write the pipe's buffer
// cannot take.
const (
	peerQueue = 64
	writeWait = 10 * time.Second
)

func newPeer(c net.Conn, role string) *peer {
	return &peer{conn: c, role: role, answers: make(chan frame, 1), gone: make(chan struct{}),
		out: make(chan frame, peerQueue), flush: make(chan struct{}), written: make(chan struct{})}
}

// queue hands f to p's writer without waiting. A full queue means the
// helper does not read: its connection is closed (its handler then leaves
// the hub) and queue reports false.
func (p *peer) queue(f frame) bool {
	select {
	case p.out <- f:
		return true
	default:
		p.conn.Close()
		return false
	}
}

// writeLoop writes p's queue until the connection ends; a write that
// misses its deadline closes it. On Hub.Close it writes what is left (a
// final message) under one deadline, then closes.
func (p *peer) writeLoop() {
	defer close(p.written)
	enc := json.NewEncoder(p.conn)
	write := func(f frame) bool {
		if enc.Encode(f) != nil {
			p.conn.Close()
			return false
		}
		return true
	}
	for {
		select {
		case f := <-p.out:
			_ = p.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !write(f) {
				return
			}
		case <-p.act.kicked():
			if f, ok := p.act.next(); ok {
				_ = p.conn.SetWriteDeadline(time.Now().Add(writeWait))
				if !write(f) {
					return
				}
			}
		case <-p.flush:
			_ = p.conn.SetWriteDeadline(time.Now().Add(writeWait))
			for {
				select {
				case f := <-p.out:
					if !write(f) {
						return
					}
				default:
					p.conn.Close()
					return
				}
			}
		case <-p.gone:
			return
		}
	}
}

// NewHub returns a hub; Serve starts it.
func NewHub(who func(net.Conn) (Caller, error)) *Hub {
	return &Hub{Who: who, SetupWait: 2 * time.Minute, Clock: support.RealClock{}, peers: map[*peer]bool{},
		setupCh: make(chan struct{}), end: make(chan struct{}, 1), conns: map[string]int{}}
}

// Serve accepts helpers on ln until ln is closed.
func (h *Hub) Serve(ln net.Listener) error {
	h.mu.Lock()
	h.listener = ln
	h.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go h.handle(c)
	}
}

// Close stops accepting and disconnects every helper, once each was
// written what is queued for it (the final message), or could not be
// within writeWait.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	if h.listener != nil {
		h.listener.Close()
	}
	peers := make([]*peer, 0, len(h.peers))
	for p := range h.peers {
		peers = append(peers, p)
	}
	screens := h.Screens
	h.mu.Unlock()
	for _, p := range peers {
		p.flushOnce.Do(func() { close(p.flush) })
	}
	for _, p := range peers {
		<-p.written
	}
	if screens != nil {
		screens.Close()
	}
}

// admit counts a connection of who, or refuses one past
// maxConnsPerCaller; done uncounts it.
func (h *Hub) admit(who Caller) (ok bool, done func()) {
	if who.System {
		return true, func() {}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns[who.User] >= maxConnsPerCaller {
		return false, nil
	}
	h.conns[who.User]++
	return true, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.conns[who.User]--; h.conns[who.User] <= 0 {
			delete(h.conns, who.User)
		}
	}
}

func (h *Hub) handle(c net.Conn) {
	defer c.Close()
	who, err := h.Who(c)
	if err != nil {
		h.Log.Printf("a helper whose caller cannot be named was refused: %v", err)
		return
	}
	ok, done := h.admit(who)
	if !ok {
		h.Log.Printf("%s was refused a connection to the pipe: it has %d open already", who.User, maxConnsPerCaller)
		return
	}
	defer done()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	var hello frame
	if err := readFrame(br, &hello); err != nil {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if hello.Hello == screen.Role {
		h.parkScreen(c, br, who)
		return
	}
	p := newPeer(c, hello.Hello)
	if p.role != RoleSetup && p.role != RoleTray {
		return
	}
	h.attachActivity(p, who)
	// The writer starts before the peer can be queued to (chat.join, join)
	// and stops when the handler returns.
	go p.writeLoop()
	defer close(p.gone)
	if p.role == RoleTray && hello.CanChat {
		// Before join, which sends the status: a tray that has its status
		// is shown the chat.
		h.chat.join(p, who)
		defer h.chat.leave(p)
	}
	if refusal := h.join(p, who); refusal != "" {
		p.queue(frame{Tell: &support.Message{Title: support.AppTitle, Text: refusal, Error: true, Final: true}})
		p.flushOnce.Do(func() { close(p.flush) })
		<-p.written
		return
	}
	defer h.leave(p)
	for {
		var f frame
		if err := readFrame(br, &f); err != nil {
			return
		}
		switch {
		case f.End:
			h.Log.Printf("%s asked to end the session", who.User)
			select {
			case h.end <- struct{}{}:
			default:
			}
		case f.Chat != nil && p.role == RoleTray:
			h.chatFrom(p, who, *f.Chat)
		case f.StopView && p.role == RoleTray:
			h.Log.Printf("%s asked to stop viewing the screen", who.User)
			h.stopViewing()
		case p.role == RoleSetup:
			select {
			case p.answers <- f:
			default:
			}
		}
	}
}

// maxPipeFrame bounds a helper's line on the pipe (a chat message of
// wire.MaxChatText characters is the longest): any interactive user may
// connect, and the service must not read gigabytes for them.
const maxPipeFrame = 2 * wire.MaxChatLine

// readFrame reads one JSON line of at most maxPipeFrame bytes.
func readFrame(br *bufio.Reader, f *frame) error {
	line, err := wire.ReadLine(br, maxPipeFrame)
	if err != nil {
		return err
	}
	return json.Unmarshal(line, f)
}

// parkScreen hands a screen helper's connection to the relay, if the
// caller may serve the screen; anyone else could watch what the
// technician sees, or show the technician a false screen.
func (h *Hub) parkScreen(c net.Conn, r io.Reader, who Caller) {
	h.mu.Lock()
	relay, closed := h.Screens, h.closed
	h.mu.Unlock()
	switch {
	case closed || relay == nil:
		return
	case !who.mayBeScreenHelper():
		h.Log.Printf("%s was refused as the screen helper (it must be SYSTEM, in the console session, running the installed program)", who.User)
		return
	}
	if h.OnJoin != nil {
		h.OnJoin(screen.Role, who)
	}
	relay.Park(c, r)
}

// join registers p, or returns why it may not join.
func (h *Hub) join(p *peer, who Caller) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return msgServiceStopping
	}
	if p.role == RoleSetup {
		switch {
		case !who.Admin:
			return msgSetupNotAdmin
		case h.setup != nil || h.started:
			return msgAlreadyRunning
		}
		h.setup = p
		close(h.setupCh)
	}
	h.peers[p] = true
	if p.role == RoleTray && h.status != nil {
		p.queue(frame{Status: h.status})
	}
	if h.OnJoin != nil {
		h.OnJoin(p.role, who)
	}
	return ""
}

func (h *Hub) leave(p *peer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.peers, p)
	if h.setup == p {
		h.setup = nil
		h.setupCh = make(chan struct{})
	}
}

// waitSetup returns the connected setup helper, waiting up to SetupWait.
func (h *Hub) waitSetup(ctx context.Context) (*peer, error) {
	timeout := h.Clock.After(h.SetupWait)
	for {
		h.mu.Lock()
		p, ch := h.setup, h.setupCh
		h.mu.Unlock()
		if p != nil {
			return p, nil
		}
		select {
		case <-ch:
		case <-timeout:
			return nil, support.ErrCancelled
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// ask sends a question to the setup helper and waits for its answer.
func (h *Hub) ask(ctx context.Context, q frame) (frame, error) {
	p, err := h.waitSetup(ctx)
	if err != nil {
		return frame{}, err
	}
	h.mu.Lock()
	p.asked = true
	h.mu.Unlock()
	if !p.queue(q) {
		return frame{}, support.ErrCancelled
	}
	select {
	case f := <-p.answers:
		if f.Cancel {
			return f, support.ErrCancelled
		}
		return f, nil
	case <-p.gone:
		return frame{}, support.ErrCancelled
	case <-ctx.Done():
		return frame{}, ctx.Err()
	}
}

// Consent asks the setup helper.
func (h *Hub) Consent(ctx context.Context, c support.Consent) (bool, error) {
	f, err := h.ask(ctx, frame{Consent: &c})
	return f.Agree, err
}

// AskCode asks the setup helper.
func (h *Hub) AskCode(ctx context.Context, r support.CodeRequest) (string, error) {
	f, err := h.ask(ctx, frame{Code: &r})
	return f.Answer, err
}

// Tell shows m in every helper. Like ShowStatus and Viewing it only
// queues (peer.queue): the session's loop calls it.
func (h *Hub) Tell(m support.Message) { h.broadcast(frame{Tell: &m}, "") }

// ShowStatus updates every tray; the first status lets the setup helper go.
func (h *Hub) ShowStatus(s support.Status) {
	h.mu.Lock()
	h.status = &s
	first := !h.started
	h.started = true
	setup := h.setup
	asked := setup != nil && setup.asked
	h.mu.Unlock()
	switch {
	case first && asked:
		setup.queue(frame{SetupDone: true})
	case first && setup != nil && s.State != support.TrayEnding:
		// A session resumed from its record: the new download did not
		// start it and must not look as if it had. (A leftover being
		// ended reaches it with the final message.)
		setup.queue(frame{Tell: &support.Message{Title: support.AppTitle, Text: msgAlreadyRunning, Error: true, Final: true}})
	}
	h.broadcast(frame{Status: &s}, RoleTray)
	h.kickActivity() // a tray whose session became the console's catches up
}

func (h *Hub) broadcast(f frame, role string) {
	h.mu.Lock()
	peers := make([]*peer, 0, len(h.peers))
	for p := range h.peers {
		if role == "" || p.role == role {
			peers = append(peers, p)
		}
	}
	h.mu.Unlock()
	for _, p := range peers {
		p.queue(f)
	}
}

// EndRequested delivers a tray's "End support session and remove app".
func (h *Hub) EndRequested() <-chan struct{} { return h.end }

// Viewing tells every tray that who started or stopped viewing the screen.
func (h *Hub) Viewing(who string, on bool) {
	h.broadcast(frame{Viewing: &Viewing{Who: who, On: on}}, RoleTray)
}

// StopViewingRequested is closed when a tray asks to stop viewing.
func (h *Hub) StopViewingRequested() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.viewStop == nil {
		h.viewStop = make(chan struct{})
	}
	return h.viewStop
}

func (h *Hub) stopViewing() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.viewStop != nil {
		close(h.viewStop)
	}
	h.viewStop = make(chan struct{})
}

var (
	_ support.UI        = (*Hub)(nil)
	_ support.Viewer    = (*Hub)(nil)
	_ support.ChatRelay = (*Hub)(nil)
)
