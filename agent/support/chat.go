package support

import (
	"bufio"
	"encoding/json"
	"net"
	"sync"
	"time"

	"adhocstation/core/wire"
)

// The chat between the technician and the user. The station's chat
// stream is served here in the service; the service has no window, so it
// relays the technician's messages over the pipe to the tray helpers that
// can show a chat window, and their users' messages back. Every tray gets
// every message: a support PC normally has one signed-in user, and the
// Windows session a tray runs in is all the service knows of who sits
// there. Chat text is never logged.

// ChatRelay is the service side of the chat (the Hub). A UI that is not
// one has nobody to show the chat to.
type ChatRelay interface {
	// ShowChat shows the technician's message in every tray helper that
	// can show a chat and returns how many took it (0: nobody can see it).
	ShowChat(m wire.ChatMessage) int
	// ChatReplies delivers the users' messages until stop is called.
	ChatReplies() (replies <-chan wire.ChatMessage, stop func())
}

// ChatUI is a tray helper's chat window; a helper UI that is one offers
// the chat when it joins the service.
type ChatUI interface {
	// ShowChat adds m (a message from the technician, or a notice about
	// the user's own) to the window and opens or flashes it.
	ShowChat(m wire.ChatMessage)
	// ChatSent delivers each message the user sends.
	ChatSent() <-chan string
}

// chatLine is a chat message on the pipe.
type chatLine = wire.ChatMessage

// chatHub is the Hub's chat state: the trays that show the chat and the
// chat streams open from the station.
type chatHub struct {
	mu      sync.Mutex
	readers map[*peer]string // tray → its user, as Windows names them
	subs    map[*chatSub]bool
}

type chatSub struct {
	ch   chan wire.ChatMessage
	done chan struct{}
}

func (c *chatHub) join(p *peer, user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readers == nil {
		c.readers = map[*peer]string{}
	}
	c.readers[p] = user
}

func (c *chatHub) leave(p *peer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.readers, p)
}

// ShowChat sends m to every tray that shows the chat.
func (h *Hub) ShowChat(m wire.ChatMessage) int {
	h.chat.mu.Lock()
	peers := make([]*peer, 0, len(h.chat.readers))
	for p := range h.chat.readers {
		peers = append(peers, p)
	}
	h.chat.mu.Unlock()
	shown := 0
	for _, p := range peers {
		if err := p.send(frame{Chat: &m}); err != nil {
			p.conn.Close()
			continue
		}
		shown++
	}
	return shown
}

// ChatReplies subscribes to the users' messages.
func (h *Hub) ChatReplies() (<-chan wire.ChatMessage, func()) {
	s := &chatSub{ch: make(chan wire.ChatMessage), done: make(chan struct{})}
	h.chat.mu.Lock()
	if h.chat.subs == nil {
		h.chat.subs = map[*chatSub]bool{}
	}
	h.chat.subs[s] = true
	h.chat.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			h.chat.mu.Lock()
			delete(h.chat.subs, s)
			h.chat.mu.Unlock()
			close(s.done)
		})
	}
}

// chatFrom passes a tray user's message to every open chat stream, named
// by the user Windows says the tray runs as (never by what it claims), or
// tells the tray nobody received it.
func (h *Hub) chatFrom(p *peer, who Caller, m wire.ChatMessage) {
	text, err := wire.CleanChat(m.Text)
	switch {
	case err != nil:
		_ = p.send(frame{Chat: &wire.ChatMessage{Notice: err.Error(), Code: wire.ChatTooLong}})
		return
	case text == "":
		return
	}
	out := wire.ChatMessage{Text: text, From: wire.CleanChatName(who.User), At: h.Clock.Now()}
	h.chat.mu.Lock()
	subs := make([]*chatSub, 0, len(h.chat.subs))
	for s := range h.chat.subs {
		subs = append(subs, s)
	}
	h.chat.mu.Unlock()
	delivered := 0
	for _, s := range subs {
		select {
		case s.ch <- out:
			delivered++
		case <-s.done:
		}
	}
	if delivered == 0 {
		_ = p.send(frame{Chat: &wire.ChatMessage{Notice: wire.ChatNotOpenText, Code: wire.ChatNotOpen}})
	}
}

// serveChat serves a chat stream attached to a remote session: the
// technician's messages go to the trays, the users' come back, each as a
// JSON line; a message the PC cannot show is answered with a notice.
func (a *App) serveChat(conn net.Conn, r *bufio.Reader) {
	enc := &frames{enc: json.NewEncoder(conn)}
	_ = conn.SetDeadline(time.Time{})
	if enc.send(wire.SignInResult{OK: true}) != nil {
		return
	}
	relay, _ := a.UI.(ChatRelay)
	a.logf("a technician opened the chat")
	defer a.logf("the technician closed the chat")
	if relay != nil {
		replies, stop := relay.ChatReplies()
		quit := make(chan struct{})
		defer func() { stop(); close(quit) }()
		go func() {
			for {
				select {
				case <-quit:
					return
				case m := <-replies:
					if enc.send(m) != nil {
						conn.Close() // ends the loop below, which stops the replies
						return
					}
				}
			}
		}()
	}
	// Lines up to MaxChatLine: the stream's reader was sized for requests.
	lines := bufio.NewReaderSize(r, wire.MaxChatLine)
	for {
		line, err := lines.ReadSlice('\n')
		if err != nil {
			return // closed, or a line past MaxChatLine: no honest station sends one
		}
		var m wire.ChatMessage
		if json.Unmarshal(line, &m) != nil {
			return
		}
		text, err := wire.CleanChat(m.Text)
		switch {
		case err != nil:
			err = enc.send(wire.ChatMessage{Notice: err.Error(), Code: wire.ChatTooLong})
		case text == "":
			continue
		case relay == nil || relay.ShowChat(wire.ChatMessage{Text: text, From: wire.CleanChatName(m.From), At: m.At}) == 0:
			err = enc.send(wire.ChatMessage{Notice: wire.ChatUnseenText, Code: wire.ChatUnseen})
		}
		if err != nil {
			return
		}
	}
}
