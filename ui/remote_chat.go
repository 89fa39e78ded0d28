package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core/refusal"
	"adhocstation/core/remote"
	"adhocstation/core/wire"
)

// The Chat tab: messages between the technician and the user at the PC,
// who sees them in a small window from the tray. The chat opens with the
// window and closes with it; its text is kept only on screen (never in the
// database or the log).

// Job names of the Chat tab.
const (
	jobChatSend    = "chat send"    // a message was sent (or refused)
	jobChatMessage = "chat message" // something from the PC is on screen
)

// maxChatShown is how many messages the transcript keeps (the newest).
const maxChatShown = 500

type chatTab struct {
	rs   *remote.RemoteSession
	work *background
	// The stream is opened off the Fyne goroutine and touches no widget
	// (Fyne's test driver would run that on the opening goroutine while the
	// window is still being built); Send reads what came.
	mu      sync.Mutex
	chat    *remote.Chat
	openErr error
	ready   chan struct{} // closed once the open is done, either way

	item       *container.TabItem
	tabs       *container.AppTabs
	transcript *fyne.Container
	scroll     *container.Scroll
	entry      *widget.Entry
	send       *widget.Button
	notice     *widget.Label
	sending    bool
	unread     int
	// The technician's recent messages by their At, for the PC's receipts
	// (who was shown each); a receipt may come before its message is on
	// screen, so it waits in receipts.
	own      []ownMessage
	receipts map[int64][]string
}

// ownMessage is one of the technician's messages on screen.
type ownMessage struct {
	at  int64 // At, in Unix nanoseconds
	box *fyne.Container
}

// maxChatReceipts bounds the messages (and early receipts) kept for receipts.
const maxChatReceipts = 50

// newChatTab adds the Chat tab to tabs and opens the chat stream.
func newChatTab(tabs *container.AppTabs, rs *remote.RemoteSession, work *background) *chatTab {
	c := &chatTab{rs: rs, work: work, tabs: tabs, ready: make(chan struct{}), receipts: map[int64][]string{}}
	c.transcript = container.NewVBox()
	c.scroll = container.NewVScroll(c.transcript)
	c.entry = widget.NewEntry()
	c.entry.SetPlaceHolder("A message for the user at the PC (Enter sends)")
	c.entry.OnSubmitted = func(string) { c.onSend() }
	c.send = &widget.Button{Text: "Send", Icon: theme.MailSendIcon(), Importance: widget.HighImportance, OnTapped: c.onSend}
	c.notice = &widget.Label{Wrapping: fyne.TextWrapWord, Importance: widget.WarningImportance}
	c.notice.Hide()
	bottom := container.NewVBox(c.notice, container.NewBorder(nil, nil, nil, c.send, c.entry))
	c.item = container.NewTabItem("Chat", container.NewBorder(nil, bottom, nil, nil, c.scroll))
	tabs.Append(c.item)
	// Selecting the tab reads what came; another tab's handler still runs.
	prev := tabs.OnSelected
	tabs.OnSelected = func(it *container.TabItem) {
		if prev != nil {
			prev(it)
		}
		if it == c.item {
			c.markRead()
			if cv := fyne.CurrentApp().Driver().CanvasForObject(c.entry); cv != nil {
				cv.Focus(c.entry) // ready to type
			}
		}
	}
	c.open()
	return c
}

// errChatOpening refuses a message sent before the chat is open.
var errChatOpening = &refusal.Error{Code: "chat_opening", Message: "The chat is still connecting to the PC. Send the message again in a moment."}

// open opens the chat stream in the background.
func (c *chatTab) open() {
	rs := c.rs
	go func() {
		defer close(c.ready)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		chat, err := rs.Chat(ctx, func(m wire.ChatMessage) {
			c.work.apply(jobChatMessage, func() { c.received(m) })
		})
		c.mu.Lock()
		c.chat, c.openErr = chat, err
		c.mu.Unlock()
		if errors.Is(err, remote.ErrOldAppChat) { // said at once, not only on Send
			c.work.apply(jobChatMessage, func() { c.showNotice(errorText(err)) })
		}
	}()
}

// stream returns the open chat, or why there is none.
func (c *chatTab) stream() (*remote.Chat, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.openErr != nil:
		return nil, c.openErr
	case c.chat == nil:
		return nil, errChatOpening
	}
	return c.chat, nil
}

// onSend sends the entry's text; a refusal keeps the text for editing.
func (c *chatTab) onSend() {
	text := c.entry.Text
	if c.sending || text == "" {
		return
	}
	c.sending = true
	c.send.Disable()
	c.notice.Hide() // a notice about this message may come back before Send returns
	c.work.run(jobChatSend, func() func() {
		chat, err := c.stream()
		var sent wire.ChatMessage
		if err == nil {
			sent, err = chat.Send(text)
		}
		return func() {
			c.sending = false
			c.send.Enable()
			if err != nil {
				c.showNotice(errorText(err))
				return
			}
			if c.entry.Text == text {
				c.entry.SetText("")
			}
			c.add(sent, true)
		}
	})
}

// received shows what the PC sent: a user's message, or a notice.
func (c *chatTab) received(m wire.ChatMessage) {
	if len(m.ShownTo) > 0 {
		c.shownTo(m.At.UnixNano(), m.ShownTo)
		return
	}
	if m.Notice != "" {
		c.showNotice(m.Notice)
		if m.Code == remote.ChatGone {
			c.mu.Lock()
			c.openErr = remote.ErrRemoteGone
			c.mu.Unlock()
		}
		return
	}
	c.notice.Hide() // someone is there after all
	c.add(m, false)
	if c.tabs.Selected() != c.item {
		c.unread++
		c.item.Text = fmt.Sprintf("Chat (%d)", c.unread)
		c.tabs.Refresh()
	}
}

// shownTo puts the PC's receipt under the message sent at, or keeps it
// until that message is on screen.
func (c *chatTab) shownTo(at int64, users []string) {
	for _, o := range c.own {
		if o.at == at {
			o.box.Add(receiptLabel(users))
			c.scroll.ScrollToBottom()
			return
		}
	}
	if len(c.receipts) >= maxChatReceipts {
		clear(c.receipts) // a PC sending receipts for nothing
	}
	c.receipts[at] = users
}

// receiptLabel says whose chat window on the PC took a message.
func receiptLabel(users []string) *widget.Label {
	return &widget.Label{Text: "Shown to " + strings.Join(users, ", "), TextStyle: fyne.TextStyle{Italic: true},
		Importance: widget.LowImportance}
}

func (c *chatTab) markRead() {
	if c.unread == 0 {
		return
	}
	c.unread = 0
	c.item.Text = "Chat"
	c.tabs.Refresh()
}

func (c *chatTab) showNotice(text string) {
	c.notice.SetText(text)
	c.notice.Show()
}

// add appends a message to the transcript: who (the technician's own
// marked "You"), when, and the text, selectable for copying.
func (c *chatTab) add(m wire.ChatMessage, own bool) {
	who := m.From
	if own {
		who = "You (" + m.From + ")"
	}
	head := &widget.Label{Text: who + " · " + m.At.Local().Format("15:04"), TextStyle: fyne.TextStyle{Bold: own, Italic: !own}}
	if !own {
		head.Importance = widget.HighImportance
	}
	body := &widget.Label{Text: m.Text, Wrapping: fyne.TextWrapWord, Selectable: true}
	// Header and text close together; the transcript's own padding parts
	// one message from the next.
	box := container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.InnerPadding()), head, body)
	c.transcript.Add(box)
	if own {
		at := m.At.UnixNano()
		if users, ok := c.receipts[at]; ok {
			delete(c.receipts, at)
			box.Add(receiptLabel(users))
		}
		if c.own = append(c.own, ownMessage{at: at, box: box}); len(c.own) > maxChatReceipts {
			c.own = c.own[1:]
		}
	}
	if n := len(c.transcript.Objects); n > maxChatShown {
		c.transcript.Objects = c.transcript.Objects[n-maxChatShown:]
		c.transcript.Refresh()
	}
	c.scroll.ScrollToBottom()
}
