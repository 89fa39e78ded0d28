package support

import (
	"bufio"
	"encoding/json"
	"net"
	"time"

	"adhocstation/core/wire"
)

// The chat between the technician and the user. The station's chat
// stream is served here in the service; the service has no window, so its
// pipe hub (agent/pipe) relays the technician's messages to the tray
// helpers that can show a chat window, and their users' messages back.
// Only the trays of the console session get the technician's messages,
// and the technician is told whose chat window took each (wire
// ChatMessage.ShownTo). Chat text is never logged.

// ChatRelay is the service side of the chat (agent/pipe's Hub). A UI that
// is not one has nobody to show the chat to.
type ChatRelay interface {
	// ShowChat shows the technician's message in the console session's
	// tray helpers that can show a chat and returns their users, as
	// Windows names them (none: nobody can see it).
	ShowChat(m wire.ChatMessage) []string
	// ChatReplies delivers the users' messages until stop is called.
	ChatReplies() (replies <-chan wire.ChatMessage, stop func())
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
	a.Log.Printf("a technician opened the chat")
	defer a.Log.Printf("the technician closed the chat")
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
		case relay == nil:
			err = enc.send(wire.ChatMessage{Notice: wire.ChatUnseenText, Code: wire.ChatUnseen})
		default:
			// The receipt answers the message it names by its At.
			if users := relay.ShowChat(wire.ChatMessage{Text: text, From: wire.CleanChatName(m.From), At: m.At}); len(users) == 0 {
				err = enc.send(wire.ChatMessage{Notice: wire.ChatUnseenText, Code: wire.ChatUnseen})
			} else {
				err = enc.send(wire.ChatMessage{ShownTo: users, At: m.At})
			}
		}
		if err != nil {
			return
		}
	}
}
