//go:build !windows

package ui

import (
	"net"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"adhocstation/agent/agenttest"
	"adhocstation/agent/pipe"
	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

// chatTestUser is the user's tray helper: the real helper code over the
// service's pipe, with a chat window that records what it is shown.
type chatTestUser struct {
	support.UI // never asked questions
	shown      chan wire.ChatMessage
	sent       chan string
}

func (chatTestUser) Tell(support.Message)          {}
func (chatTestUser) ShowStatus(support.Status)     {}
func (chatTestUser) EndRequested() <-chan struct{} { return nil }
func (u chatTestUser) ShowChat(m wire.ChatMessage) { u.shown <- m }
func (u chatTestUser) ChatSent() <-chan string     { return u.sent }

// chatTestOpen opens a remote window to a PC whose service relays the
// chat through its pipe (a Unix socket here); join connects the user's
// tray to it.
func chatTestOpen(t *testing.T) (r *remoteWindow, watch *workWatch, join func() chatTestUser) {
	t.Helper()
	st, _, s, sub := pagesTestComputers(t)
	watch = watchWork(&s.work)
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	deliverUntil(t, sub, s.onEvent, core.EventPrepared)
	s.list.Select(0)
	// On Windows the pipe names its caller by their token; here it is Anna.
	service := agenttest.ServePipe(t, func(net.Conn) (pipe.Caller, error) { return pipe.Caller{User: "anna", Console: true}, nil })
	remoteTestServe(t, st, prep, service.Hub)
	deliverUntil(t, sub, s.onEvent, core.EventPaired)
	remoteTestConnect(t, s, watch, coretest.Password)
	watch.wait(t, jobSystem)
	coretest.Await(t, s.remotes[0].chat.ready, "the chat to open")
	join = func() chatTestUser {
		u := chatTestUser{shown: make(chan wire.ChatMessage, 4), sent: make(chan string)}
		service.JoinTray(u)
		return u
	}
	return s.remotes[0], watch, join
}

// duringAll is workWatch.during for an action whose results come as
// several jobs, in any order (a message sent, and the PC's notice about it).
func duringAll(t *testing.T, watch *workWatch, action func(), jobs ...string) {
	t.Helper()
	gate := make(chan struct{})
	watch.b.hold = gate
	action()
	watch.b.hold = nil
	close(gate)
	left := map[string]int{}
	for _, j := range jobs {
		left[j]++
	}
	deadline := time.After(coretest.WaitLimit)
	for len(left) > 0 {
		select {
		case got := <-watch.applied:
			if left[got]--; left[got] <= 0 {
				delete(left, got)
			}
		case <-deadline:
			t.Fatalf("waited %v for %v on screen", coretest.WaitLimit, left)
		}
	}
}

// transcriptText is the Chat tab's transcript as lines.
func transcriptText(c *chatTab) string {
	var lines []string
	for _, l := range findAll[*widget.Label](c.transcript) {
		lines = append(lines, l.Text)
	}
	return strings.Join(lines, "\n")
}

// The Chat tab: a message sent while nobody on the PC can see the chat
// gets the PC's notice; once the user's tray is there, Enter sends and the
// user sees it; the user's answers show in the transcript and count as
// unread on the tab while another tab is selected; the PC's receipt says
// under each message whose window it reached; a message over 2,000
// characters is refused with a sentence and stays in the entry; the tab
// fits 1280×720.
func TestRemoteChatTab(t *testing.T) {
	r, watch, join := chatTestOpen(t)
	c := r.chat
	c.tabs.Select(c.item)

	test.Type(c.entry, "Hello, Anna?")
	duringAll(t, watch, func() { test.Tap(c.send) }, jobChatSend, jobChatMessage)
	if !c.notice.Visible() || c.notice.Text != wire.ChatUnseenText {
		t.Fatalf("with no tray the notice says %q (visible %v)", c.notice.Text, c.notice.Visible())
	}
	if got := transcriptText(c); !strings.HasPrefix(got, "You (Tom) · ") || !strings.HasSuffix(got, "\nHello, Anna?") || c.entry.Text != "" {
		t.Fatalf("transcript %q, entry %q; want the technician's own message, marked", got, c.entry.Text)
	}

	user := join()
	test.Type(c.entry, "Please open Outlook.")
	// The PC's receipt (whose window took it) may come before the message
	// is on screen or after; either way it shows under the message.
	duringAll(t, watch, func() { c.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) }, jobChatSend, jobChatMessage)
	if m := coretest.Receive(t, user.shown, "the message in the user's chat window"); m.Text != "Please open Outlook." || m.From != "Tom" {
		t.Fatalf("the user was shown %+v", m)
	}
	if got := transcriptText(c); !strings.HasSuffix(got, "\nPlease open Outlook.\nShown to anna") {
		t.Fatalf("the transcript does not say who was shown the message:\n%s", got)
	}
	if c.notice.Visible() {
		t.Errorf("the notice %q stays after a message the user saw", c.notice.Text)
	}

	c.tabs.Select(c.tabs.Items[0]) // the System tab
	for i, want := range []string{"Chat (1)", "Chat (2)"} {
		user.sent <- "Answer " + string(rune('A'+i))
		watch.wait(t, jobChatMessage)
		if c.item.Text != want {
			t.Fatalf("after %d unread answers the tab reads %q, want %q", i+1, c.item.Text, want)
		}
	}
	c.tabs.Select(c.item)
	if c.item.Text != "Chat" {
		t.Errorf("with the Chat tab selected it reads %q", c.item.Text)
	}
	if r.win.Canvas().Focused() != c.entry {
		t.Error("selecting the Chat tab does not put the cursor in its entry")
	}
	user.sent <- "Answer C"
	watch.wait(t, jobChatMessage)
	if c.item.Text != "Chat" {
		t.Errorf("a message read on the selected tab counts as unread: %q", c.item.Text)
	}
	got := transcriptText(c)
	for _, want := range []string{"anna · ", "\nAnswer A\n", "\nAnswer C"} {
		if !strings.Contains(got, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, got)
		}
	}

	long := strings.Repeat("x", wire.MaxChatText+1)
	c.entry.SetText(long)
	watch.during(t, jobChatSend, func() { test.Tap(c.send) })
	if !c.notice.Visible() || !strings.Contains(c.notice.Text, "2001 characters long; a chat message may have at most 2000") || c.entry.Text != long {
		t.Fatalf("a too-long message: notice %q, entry kept %v", c.notice.Text, c.entry.Text == long)
	}

	for _, size := range []fyne.Size{fitTestScreen, fitTestMax} {
		r.win.Resize(size)
		if min := r.win.Content().MinSize(); min.Width > fitTestMax.Width || min.Height > fitTestMax.Height {
			t.Errorf("with the Chat tab the remote window asks for at least %v, more than %v", min, fitTestMax)
		}
		if !fitTestOnScreen(r.win.Canvas(), c.send) {
			t.Errorf("at %v Send is not on screen", size)
		}
	}
	r.win.Close()
}
