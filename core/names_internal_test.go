package core

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"adhocstation/core/wire"
)

// A listed name is shown and is a download's default name: a bidi
// override would make "invoice_\u202Efdp.exe" read as invoice_exe.pdf and
// save as an .exe. The station shows and saves it cleaned, and asks the
// PC for it in the PC's spelling.
func TestListCleansNamesAndKeepsThePCsSpelling(t *testing.T) {
	evil := "invoice_\u202Efdp.exe"
	r := &RemoteSession{open: hostilePC{lines: []any{wire.FilesReply{Path: `C:\Users`, Entries: []wire.Entry{
		{Name: evil}, {Name: "\u2066\u2069"}, {Name: "plain.txt"},
	}}}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, got, err := r.List(ctx, `C:\Users`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "invoice_fdp.exe" || got[0].PCName() != evil || got[1].PCName() != "plain.txt" {
		t.Fatalf("List gave %+v", got)
	}
}

// On a Windows station a device name saves to the device and a trailing
// dot or space is dropped by Windows: such names are not listed there.
// Elsewhere they are ordinary names.
func TestListRefusesWindowsReservedNamesOnAWindowsStation(t *testing.T) {
	names := []string{"CON", "con.txt", "Nul", "aux .log", "COM1", "lpt9.doc", "COM¹", "CONOUT$", "name.", "name ", "a<b", "q?.txt",
		"console.txt", "COM10", "com", "LPT", "ok.txt"}
	var entries []wire.Entry
	for _, n := range names {
		entries = append(entries, wire.Entry{Name: n})
	}
	var kept []string
	for _, e := range listed(slices.Clone(entries), "windows") {
		kept = append(kept, e.Name)
	}
	if want := []string{"console.txt", "COM10", "com", "LPT", "ok.txt"}; !slices.Equal(kept, want) {
		t.Errorf("a Windows station lists %q, want %q", kept, want)
	}
	if n := len(listed(slices.Clone(entries), "linux")); n < len(names)-2 {
		t.Errorf("a Linux station lists %d of %d", n, len(names))
	}
}

// A PC's chat messages are shown as the notices are: cleaned of bidi
// overrides and control characters, with the sender's name on one line;
// a message that is too long or empty once cleaned is not shown.
func TestChatCleansThePCsMessages(t *testing.T) {
	r := &RemoteSession{open: hostilePC{lines: []any{
		wire.ChatMessage{Text: "Open \u202Eexe.fdp\u202C now\x1b[2J\r\nplease\a", From: "anna\u202E\nAdministrator"},
		wire.ChatMessage{Text: strings.Repeat("x", wire.MaxChatText+1), From: "anna"},
		wire.ChatMessage{Text: "\u2066\x00", From: "anna"},
		wire.ChatMessage{Text: "last", From: strings.Repeat("n", wire.MaxChatName+50)},
	}}}
	got := make(chan wire.ChatMessage, 4)
	c, err := r.Chat(context.Background(), func(m wire.ChatMessage) { got <- m })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var shown []wire.ChatMessage
	for len(shown) == 0 || shown[len(shown)-1].Text != "last" {
		select {
		case m := <-got:
			shown = append(shown, m)
		case <-time.After(10 * time.Second):
			t.Fatalf("the PC's lines did not all arrive: %.200q so far", shown)
		}
	}
	if len(shown) != 2 || shown[0].Text != "Open exe.fdp now[2J\nplease" || shown[0].From != "annaAdministrator" ||
		len(shown[1].From) != wire.MaxChatName {
		t.Fatalf("the station shows %.300q", shown)
	}
}
