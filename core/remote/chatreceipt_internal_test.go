package remote

import (
	"context"
	"slices"
	"testing"
	"time"

	"adhocstation/core/wire"
)

// TestChatCleansThePCsReceipts: the PC's receipt (whose chat window took
// the technician's message) reaches the window with its names cleaned, no
// empty ones and at most wire.MaxChatShownTo; a receipt naming nobody is
// dropped, and a user's message cannot carry one.
func TestChatCleansThePCsReceipts(t *testing.T) {
	at := time.Date(2026, 12, 6, 20, 0, 0, 123, time.UTC)
	r := &RemoteSession{open: hostilePC{lines: []any{
		wire.ChatMessage{At: at, ShownTo: []string{"PC\\an\u202Ena\x1b", "", "b", "c", "d", "e"}},
		wire.ChatMessage{At: at, ShownTo: []string{"\x07", ""}},
		wire.ChatMessage{Text: "hi", From: "anna", ShownTo: []string{"mallory"}},
		wire.ChatMessage{Text: "last"},
	}}}
	got := make(chan wire.ChatMessage, 8)
	c, err := r.Chat(context.Background(), func(m wire.ChatMessage) { got <- m })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	next := func(what string) wire.ChatMessage {
		t.Helper()
		select {
		case m := <-got:
			return m
		case <-time.After(10 * time.Second): // coretest would be an import cycle
			t.Fatalf("waited 10s for %s", what)
			return wire.ChatMessage{}
		}
	}
	receipt := next("the receipt")
	if want := []string{"PC\\anna", "b", "c", "d"}; !slices.Equal(receipt.ShownTo, want) || !receipt.At.Equal(at) || receipt.Text != "" {
		t.Fatalf("the receipt reads %+v; want %q at %v", receipt, want, at)
	}
	if m := next("the user's message"); m.Text != "hi" || m.ShownTo != nil {
		t.Fatalf("after the receipt came %+v; want the message \"hi\" and no receipt in it", m)
	}
	if m := next("the last line"); m.Text != "last" {
		t.Fatalf("got %+v", m)
	}
}
