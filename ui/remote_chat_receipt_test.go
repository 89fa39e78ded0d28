//go:build !windows

package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"adhocstation/core/wire"
)

// The PC's receipt may arrive before the technician's message is on
// screen (Send's result and the stream's lines reach the Fyne goroutine
// separately): it waits and shows under its message, found by At, and a
// receipt for another message goes under that one.
func TestChatReceiptBeforeItsMessage(t *testing.T) {
	test.NewTempApp(t)
	c := &chatTab{transcript: container.NewVBox(), receipts: map[int64][]string{}}
	c.scroll = container.NewVScroll(c.transcript)
	first := time.Date(2026, 12, 6, 20, 0, 0, 1, time.UTC)
	second := first.Add(time.Second)
	c.received(wire.ChatMessage{At: second, ShownTo: []string{`PC\anna`}}) // before its message
	c.add(wire.ChatMessage{Text: "one", From: "Tom", At: first}, true)
	c.add(wire.ChatMessage{Text: "two", From: "Tom", At: second}, true)
	c.received(wire.ChatMessage{At: first, ShownTo: []string{`PC\anna`, `PC\bob`}}) // after it
	got := transcriptText(c)
	if !strings.Contains(got, "\none\nShown to PC\\anna, PC\\bob\n") || !strings.HasSuffix(got, "\ntwo\nShown to PC\\anna") {
		t.Fatalf("the receipts are not under their messages:\n%s", got)
	}
}
