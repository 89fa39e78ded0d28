package pipe

import (
	"slices"
	"sync"

	"adhocstation/core/wire"
)

// The chat's relay on the pipe: the technician's messages go to the tray
// helpers that can show a chat window, and their users' messages back to
// the chat streams open from the station (agent/support's serveChat).
// The technician's messages go only to the trays of the console session
// (Hub.AtConsole, asked per message): the person at the PC's screen is who
// the technician talks with; another signed-in user's tray, or one in a
// disconnected session, must not read along. Chat text is never logged.

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
	readers map[*peer]Caller // tray → who runs it, as Windows names them
	subs    map[*chatSub]bool
}

type chatSub struct {
	ch   chan wire.ChatMessage
	done chan struct{}
}

func (c *chatHub) join(p *peer, who Caller) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readers == nil {
		c.readers = map[*peer]Caller{}
	}
	c.readers[p] = who
}

func (c *chatHub) leave(p *peer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.readers, p)
}

// ShowChat queues m to every tray of the console session that shows the
// chat and returns their users (each once, as Windows names them).
func (h *Hub) ShowChat(m wire.ChatMessage) []string {
	h.chat.mu.Lock()
	readers := make(map[*peer]Caller, len(h.chat.readers))
	for p, who := range h.chat.readers {
		readers[p] = who
	}
	h.chat.mu.Unlock()
	var users []string
	for p, who := range readers {
		if !h.atConsole(who) || !p.queue(frame{Chat: &m}) {
			continue
		}
		if !slices.Contains(users, who.User) {
			users = append(users, who.User)
		}
	}
	slices.Sort(users)
	return users
}

// atConsole reports whether who's session is the console's now.
func (h *Hub) atConsole(who Caller) bool {
	if h.AtConsole != nil {
		return h.AtConsole(who)
	}
	return who.Console
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
		p.queue(frame{Chat: &wire.ChatMessage{Notice: err.Error(), Code: wire.ChatTooLong}})
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
		p.queue(frame{Chat: &wire.ChatMessage{Notice: wire.ChatNotOpenText, Code: wire.ChatNotOpen}})
	}
}
