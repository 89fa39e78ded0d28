package wire

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The chat of a remote session (docs/PROTOCOL.md, "Chat"): an attached
// stream (SignIn{Attach: KEY, Chat: &ChatOpen{}}) answered by one
// SignInResult line, then ChatMessage JSON lines both ways, each at most
// MaxChatLine bytes. Station → PC: the technician's messages. PC →
// station: the user's messages, and notices (Notice set) about a message of
// the technician's the PC could not show.

// ChatOpen starts a chat stream; it carries nothing yet.
type ChatOpen struct{}

// ChatMessage is one chat line: a message (Text, From, At) or a notice.
type ChatMessage struct {
	Text string    `json:"text,omitempty"`
	From string    `json:"from,omitempty"` // the sender's name
	At   time.Time `json:"at,omitempty"`   // when it was written, by the sender's clock
	// Notice is a sentence for the reader about the other side's message
	// (nobody could see it, it was too long); Code says which.
	Notice string `json:"notice,omitempty"`
	Code   string `json:"code,omitempty"`
	// ShownTo, PC → station, is the receipt of the technician's message
	// whose At it repeats: the Windows users (at most MaxChatShownTo) whose
	// chat window took it. It has no text, so a station older than it
	// skips the line.
	ShownTo []string `json:"shown_to,omitempty"`
}

// MaxChatShownTo bounds a receipt's names (one console session has one
// user; the rest is a PC's invention).
const MaxChatShownTo = 4

// Codes of chat notices.
const (
	ChatUnseen  = "unseen"   // nobody on the PC can see the chat (no tray helper)
	ChatTooLong = "too_long" // longer than MaxChatText
	ChatNotOpen = "not_open" // to the user: the technician has no chat open
)

// Sentences of the notices, shared by the station and the PC.
const (
	ChatUnseenText  = "No one on the PC can see the chat right now: nobody is signed in, or the Support Session icon is not running. Your message was not shown; try again later or call the user."
	ChatNotOpenText = "Your technician does not have the chat open right now, so your message was not delivered. Try again in a moment."
)

// MaxChatText bounds a message's characters (runes, after cleaning).
const MaxChatText = 2000

// MaxChatName bounds a sender's name.
const MaxChatName = 100

// MaxChatLine bounds a chat stream's JSON line: MaxChatText characters of
// at most 6 bytes each once JSON-escaped, the name and the rest.
const MaxChatLine = 16 << 10

// ChatTooLongError refuses a message longer than MaxChatText characters.
type ChatTooLongError struct{ Length int }

func (e *ChatTooLongError) Error() string {
	return fmt.Sprintf("That message is %d characters long; a chat message may have at most %d. Split it into shorter messages and send them one by one.", e.Length, MaxChatText)
}

// CleanChat returns text fit to show: line breaks become "\n", other
// control characters and the bidirectional overrides (which could make a
// line read backwards) are dropped, and blank lines at the ends trimmed.
// A result longer than MaxChatText characters is a *ChatTooLongError.
func CleanChat(text string) (string, error) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	var b strings.Builder
	for _, c := range text {
		if c == utf8.RuneError || (c != '\n' && (unicode.IsControl(c) || isBidiControl(c))) {
			continue
		}
		b.WriteRune(c)
	}
	out := strings.TrimSpace(b.String())
	if l := utf8.RuneCountInString(out); l > MaxChatText {
		return "", &ChatTooLongError{Length: l}
	}
	return out, nil
}

// CleanChatName is a sender's name cut to MaxChatName characters, on one line.
func CleanChatName(name string) string {
	var b strings.Builder
	n := 0
	for _, c := range name {
		if unicode.IsControl(c) || isBidiControl(c) || c == utf8.RuneError {
			continue
		}
		if n == MaxChatName {
			break
		}
		b.WriteRune(c)
		n++
	}
	return strings.TrimSpace(b.String())
}

func isBidiControl(c rune) bool {
	return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069)
}
