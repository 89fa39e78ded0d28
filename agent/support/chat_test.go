//go:build !windows

package support_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"adhocstation/agent/pipe"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/remote"
	"adhocstation/core/wire"
)

// chatUser is a tray helper's screen with a chat window: what the
// technician writes is shown to it, and what the user types is sent.
type chatUser struct {
	*recorder
	shown chan wire.ChatMessage
	sent  chan string
}

func newChatUser(t testing.TB) *chatUser {
	return &chatUser{recorder: newRecorder(t.TempDir(), []byte("MZ"), windowsPC),
		shown: make(chan wire.ChatMessage, 16), sent: make(chan string)}
}

func (u *chatUser) ShowChat(m wire.ChatMessage) { u.shown <- m }
func (u *chatUser) ChatSent() <-chan string     { return u.sent }

var _ pipe.ChatUI = (*chatUser)(nil)

// chatInbox collects what the station's chat receives.
type chatInbox chan wire.ChatMessage

func (in chatInbox) receive(m wire.ChatMessage) { in <- m }

func (in chatInbox) next(t *testing.T, what string) wire.ChatMessage {
	t.Helper()
	return coretest.Receive(t, in, what)
}

// TestChat: over the real station, pairing service, live channel, service
// and pipe, the technician's message reaches the user's tray helper and
// the user's answer reaches the station; with no tray able to show it the
// technician is told; a message over 2,000 characters is refused with a
// sentence and nothing sent; control characters are dropped; the user is
// told when the technician has no chat open; no chat text is logged.
func TestChat(t *testing.T) {
	r, rs := connected(t)
	ctx := context.Background()
	inbox := make(chatInbox, 16)
	chat, err := rs.Chat(ctx, inbox.receive)
	if err != nil {
		t.Fatalf("open the chat: %v", err)
	}

	// The rig's tray shows no chat window: nobody can see it.
	if _, err := chat.Send("Hello, are you there?"); err != nil {
		t.Fatalf("send: %v", err)
	}
	if m := inbox.next(t, "the PC's notice that nobody can see the chat"); m.Code != wire.ChatUnseen ||
		!strings.Contains(m.Notice, "No one on the PC can see the chat right now: nobody is signed in, or the Support Session icon is not running") {
		t.Fatalf("with no chat window the station got %+v", m)
	}

	user := newChatUser(t)
	r.helper(t.Context(), pipe.RoleTray, user)
	coretest.Receive(t, user.status, "the chat tray to join")
	sent, err := chat.Send("Hello Anna,\r\nplease open Outlook.\x07\x1b[0m\u202e")
	if err != nil || sent.Text != "Hello Anna,\nplease open Outlook.[0m" || sent.From != "Ana Tech" {
		t.Fatalf("send: %+v, %v", sent, err)
	}
	got := coretest.Receive(t, user.shown, "the technician's message in the user's chat window")
	if got.Text != sent.Text || got.From != "Ana Tech" || !got.At.Equal(sent.At) {
		t.Fatalf("the user was shown %+v; want %+v", got, sent)
	}
	// The technician learns whose window took it, as the OS names the user.
	if m := inbox.next(t, "the receipt of the message"); len(m.ShownTo) != 1 || m.ShownTo[0] != fmt.Sprint(os.Getuid()) ||
		!m.At.Equal(sent.At) || m.Text != "" || m.Notice != "" {
		t.Fatalf("the station got %+v; want the receipt naming the tray's user", m)
	}

	user.sent <- "It is open now.\x00"
	reply := inbox.next(t, "the user's answer at the station")
	if reply.Text != "It is open now." || reply.From != fmt.Sprint(os.Getuid()) || reply.At.IsZero() || reply.Notice != "" {
		t.Fatalf("the station got %+v; want the answer from the tray's user as the OS names them", reply)
	}

	_, err = chat.Send(strings.Repeat("a", wire.MaxChatText+1))
	var long *wire.ChatTooLongError
	if !errors.Is(err, remote.ErrChatTooLong) || !errors.As(err, &long) ||
		err.Error() != "That message is 2001 characters long; a chat message may have at most 2000. Split it into shorter messages and send them one by one." {
		t.Fatalf("a 2,001-character message: %v", err)
	}
	if text, ok := core.RefusalText(err); !ok || text != err.Error() {
		t.Errorf("the refusal does not read as its sentence: %q %v", text, ok)
	}
	// The longest message, of characters JSON escapes to 6 bytes, arrives whole.
	longest := strings.Repeat("<é>", wire.MaxChatText/3) + "<é"
	if _, err := chat.Send(longest); err != nil {
		t.Fatalf("a 2,000-character message: %v", err)
	}
	if got := coretest.Receive(t, user.shown, "the longest message"); got.Text != longest {
		t.Fatalf("the longest message arrived as %d characters", len([]rune(got.Text)))
	}
	if m := inbox.next(t, "the receipt of the longest message"); len(m.ShownTo) != 1 {
		t.Fatalf("the station got %+v; want the receipt", m)
	}
	if _, err := chat.Send(" \n\x01 "); !errors.Is(err, remote.ErrChatEmpty) {
		t.Errorf("a blank message: %v", err)
	}
	if _, err := rs.System(ctx); err != nil {
		t.Errorf("the remote session after the chat: %v", err)
	}

	// The technician closes the chat: the user's next message is not lost
	// silently.
	chat.Close()
	waitLog(t, r, "the technician closed the chat")
	user.sent <- "Are you still there?"
	if m := coretest.Receive(t, user.shown, "the notice that the technician has no chat open"); m.Code != wire.ChatNotOpen || m.Notice != wire.ChatNotOpenText {
		t.Fatalf("the user was shown %+v", m)
	}
	select {
	case m := <-inbox:
		t.Errorf("a closed chat still received %+v", m)
	default:
	}
	if pcLog := r.log.String(); strings.Contains(pcLog, "Outlook") || strings.Contains(pcLog, "open now") ||
		!strings.Contains(pcLog, "a technician opened the chat") {
		t.Errorf("the PC's log holds chat text or not the chat's opening:\n%s", pcLog)
	}
	// Nor does the station keep it: not in its database, its WAL or any
	// other file of its folder.
	files, _ := filepath.Glob(filepath.Join(r.st.DataDir(), "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && (bytes.Contains(b, []byte("Outlook")) || bytes.Contains(b, []byte("open now"))) {
			t.Errorf("the station's %s holds chat text", filepath.Base(f))
		}
	}
}

// TestChatGone: a chat whose channel drops says so in a sentence; one
// the technician closed (with the window) says nothing more.
func TestChatGone(t *testing.T) {
	r, rs := connected(t)
	inbox := make(chatInbox, 4)
	chat, err := rs.Chat(context.Background(), inbox.receive)
	if err != nil {
		t.Fatal(err)
	}
	r.srv.Close() // the station's pairing service, and with it the channel
	if m := inbox.next(t, "the end of the chat"); m.Code != remote.ChatGone || m.Notice != remote.ErrRemoteGone.Error() {
		t.Fatalf("after the channel dropped the chat got %+v", m)
	}
	if _, err := chat.Send("hello"); !errors.Is(err, remote.ErrRemoteGone) {
		t.Errorf("send on a dropped chat: %v", err)
	}
	rs.Close()
	if _, err := rs.Chat(context.Background(), inbox.receive); !errors.Is(err, remote.ErrRemoteGone) {
		t.Errorf("a chat on a closed remote session: %v", err)
	}
	select {
	case m := <-inbox:
		t.Errorf("after the window closed the chat got %+v", m)
	default:
	}
}

// waitLog waits for the service's log to hold text.
func waitLog(t *testing.T, r *rig, text string) {
	t.Helper()
	deadline := time.Now().Add(coretest.WaitLimit)
	for !strings.Contains(r.log.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for the PC's log to say %q", coretest.WaitLimit, text)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkChatRoundTrip: the technician's message over the live channel
// to the service, over the pipe to the tray helper, whose answer comes
// back the same way. It reports the median and the 99th percentile.
func BenchmarkChatRoundTrip(b *testing.B) {
	r, rs := connected(b)
	user := newChatUser(b)
	r.helper(b.Context(), pipe.RoleTray, user)
	coretest.Receive(b, user.status, "the chat tray to join")
	inbox := make(chatInbox, 16)
	chat, err := rs.Chat(context.Background(), inbox.receive)
	if err != nil {
		b.Fatal(err)
	}
	defer chat.Close()
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := chat.Send("Is Outlook open?"); err != nil {
			b.Fatal(err)
		}
		<-user.shown
		user.sent <- "Yes"
		if m := <-inbox; len(m.ShownTo) != 1 {
			b.Fatalf("got %+v; want the receipt", m)
		}
		if m := <-inbox; m.Text != "Yes" {
			b.Fatalf("got %+v", m)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}
