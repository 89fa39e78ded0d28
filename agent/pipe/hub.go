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
	Console   bool
	Installed bool
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
	viewStop chan struct{} // closed when a tray asks to stop viewing
}

type peer struct {
	conn    net.Conn
	role    string
	wmu     sync.Mutex
	answers chan frame
	gone    chan struct{}
	// asked is set once the service asked this setup helper a question: only
	// that one started the session; any other is told a session runs.
	asked bool
}

func (p *peer) send(f frame) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_ = p.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return json.NewEncoder(p.conn).Encode(f)
}

// NewHub returns a hub; Serve starts it.
func NewHub(who func(net.Conn) (Caller, error)) *Hub {
	return &Hub{Who: who, SetupWait: 2 * time.Minute, Clock: support.RealClock{}, peers: map[*peer]bool{},
		setupCh: make(chan struct{}), end: make(chan struct{}, 1)}
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

// Close stops accepting and disconnects every helper.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.listener != nil {
		h.listener.Close()
	}
	for p := range h.peers {
		p.conn.Close()
	}
	if h.Screens != nil {
		h.Screens.Close()
	}
}

func (h *Hub) handle(c net.Conn) {
	defer c.Close()
	who, err := h.Who(c)
	if err != nil {
		h.Log.Printf("a helper whose caller cannot be named was refused: %v", err)
		return
	}
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
	p := &peer{conn: c, role: hello.Hello, answers: make(chan frame, 1), gone: make(chan struct{})}
	defer close(p.gone)
	if p.role != RoleSetup && p.role != RoleTray {
		return
	}
	if p.role == RoleTray && hello.CanChat {
		// Before join, which sends the status: a tray that has its status
		// is shown the chat.
		h.chat.join(p, who.User)
		defer h.chat.leave(p)
	}
	if refusal := h.join(p, who); refusal != "" {
		_ = p.send(frame{Tell: &support.Message{Title: support.AppTitle, Text: refusal, Error: true, Final: true}})
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
		go p.send(frame{Status: h.status})
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
	if err := p.send(q); err != nil {
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

// Tell shows m in every helper.
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
		_ = setup.send(frame{SetupDone: true})
	case first && setup != nil && s.State != support.TrayEnding:
		// A session resumed from its record: the new download did not
		// start it and must not look as if it had. (A leftover being
		// ended reaches it with the final message.)
		_ = setup.send(frame{Tell: &support.Message{Title: support.AppTitle, Text: msgAlreadyRunning, Error: true, Final: true}})
	}
	h.broadcast(frame{Status: &s}, RoleTray)
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
		if err := p.send(f); err != nil {
			p.conn.Close()
		}
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
