package remote

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"adhocstation/core/refusal"
	"adhocstation/core/wire"
)

// The chat of a remote session: one stream, joined to the signed-in one by
// its key, carrying wire.ChatMessage lines both ways while the window is
// open. Chat text is never logged; it is kept only in the session's
// recording (core/record), which the user was told of when invited.

// Refusals of Send.
var (
	ErrChatEmpty = refusal.New("chat_empty", "Type a message before sending it.")
	// ErrChatTooLong is matched by the refusal of a message longer than
	// wire.MaxChatText characters, whose sentence says how long it was.
	ErrChatTooLong = refusal.New("chat_too_long", "That message is too long for the chat. Split it into shorter messages and send them one by one.")
)

// Chat is the open chat stream of a remote session.
type Chat struct {
	conn   net.Conn
	from   string
	wmu    sync.Mutex
	closed atomic.Bool // by Close: the window is gone, nobody to tell
	rec    Recorder
}

// Chat opens the chat stream. receive is called on the stream's own
// goroutine with each message from the PC: a user's message, or a notice
// (Notice set) such as wire.ChatUnseen when nobody on the PC can see the
// chat, or a receipt (ShownTo set: whose window took the message sent At,
// from an app that sends them); when the stream ends it is called once more with a notice of code
// "gone" (ErrRemoteGone's sentence) unless Close (its own or the remote
// session's) ended it. Close it, or the remote session, to
// end it. Refusals: ErrRemoteGone, ErrOldAppChat.
func (r *RemoteSession) Chat(ctx context.Context, receive func(wire.ChatMessage)) (*Chat, error) {
	conn, in, _, err := r.attach(ctx, wire.SignIn{Chat: &wire.ChatOpen{}}, wire.MaxChatLine)
	if err != nil {
		return nil, err
	}
	c := &Chat{conn: conn, from: r.Technician, rec: r.recorder()}
	go func() {
		defer r.running.Delete(conn)
		defer conn.Close()
		for {
			line, err := in.ReadSlice('\n')
			var m wire.ChatMessage
			if err == nil {
				err = json.Unmarshal(line, &m)
			}
			if err != nil {
				if !c.closed.Load() && !r.closed.Load() {
					receive(wire.ChatMessage{Notice: ErrRemoteGone.Error(), Code: ChatGone})
				}
				return
			}
			switch {
			case m.Notice == "" && m.Text == "" && len(m.ShownTo) > 0:
				// A receipt: whose window took the message sent At.
				m = wire.ChatMessage{At: m.At, ShownTo: cleanShownTo(m.ShownTo)}
				if len(m.ShownTo) == 0 {
					continue
				}
			case m.Notice == "":
				text, err := wire.CleanChat(m.Text)
				if err != nil || text == "" {
					continue // a PC that sends this is not ours to show
				}
				m = wire.ChatMessage{Text: text, From: wire.CleanChatName(m.From), At: m.At}
			default:
				notice, err := wire.CleanChat(m.Notice)
				if err != nil || notice == "" {
					continue
				}
				m = wire.ChatMessage{Notice: notice, Code: m.Code}
			}
			if len(m.ShownTo) == 0 { // receipts are not part of the conversation
				r.recorder().Chat(m, false)
			}
			receive(m)
		}
	}()
	return c, nil
}

// chatWriteWait bounds sending one message to a PC that does not read.
const chatWriteWait = 10 * time.Second

// cleanShownTo is a receipt's names fit to show: cleaned, no empty ones,
// at most wire.MaxChatShownTo.
func cleanShownTo(names []string) []string {
	var out []string
	for _, n := range names {
		if len(out) == wire.MaxChatShownTo {
			break
		}
		if n = wire.CleanChatName(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// ChatGone is the code of the notice that the chat stream ended.
const ChatGone = "gone"

// Send sends the technician's message, stamped with their name and the
// time, and returns it as sent (cleaned) for the transcript. Refusals:
// ErrChatTooLong (more than wire.MaxChatText characters, nothing is sent;
// the error unwraps to *wire.ChatTooLongError), ErrChatEmpty,
// ErrRemoteGone. That nobody on the PC could see it comes later through
// receive, as a wire.ChatUnseen notice.
func (c *Chat) Send(text string) (wire.ChatMessage, error) {
	clean, err := wire.CleanChat(text)
	switch {
	case err != nil:
		return wire.ChatMessage{}, &refusal.Error{Code: ErrChatTooLong.Code, Message: err.Error(), Err: err}
	case clean == "":
		return wire.ChatMessage{}, ErrChatEmpty
	}
	m := wire.ChatMessage{Text: clean, From: c.from, At: time.Now()}
	b, err := json.Marshal(m)
	if err != nil {
		return wire.ChatMessage{}, err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	// A PC that stops reading must not hold the window's worker: the
	// write is bounded, and a message cut short ends the stream.
	_ = c.conn.SetWriteDeadline(time.Now().Add(chatWriteWait))
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		c.conn.Close()
		return wire.ChatMessage{}, ErrRemoteGone
	}
	c.rec.Chat(m, true)
	return m, nil
}

// Close ends the chat stream.
func (c *Chat) Close() error {
	c.closed.Store(true)
	err := c.conn.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
