package remote

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"adhocstation/core/wire"
)

// hostilePC answers every stream opened with OK and then its lines,
// and keeps the stream open until the station closes it.
type hostilePC struct{ lines []any }

func (h hostilePC) Open() (net.Conn, error) {
	st, pc := net.Pipe()
	go func() {
		defer pc.Close()
		r := bufio.NewReader(pc)
		if _, err := r.ReadSlice('\n'); err != nil {
			return
		}
		enc := json.NewEncoder(pc)
		_ = enc.Encode(wire.SignInResult{OK: true})
		for _, l := range h.lines {
			_ = enc.Encode(l)
		}
		_, _ = r.ReadByte()
	}()
	return st, nil
}

// A PC's listing is the technician's default name for a download on this
// computer: a hostile PC naming an entry "../../.bashrc" or "..\evil.exe"
// would have the download written outside the folder chosen. List keeps
// only names that are one entry of a folder.
func TestListDropsNamesThatAreNotOneEntry(t *testing.T) {
	now := time.Now().UTC()
	var entries []wire.Entry
	for _, n := range []string{"ok.txt", "../../.bashrc", `..\evil.exe`, "..", ".", "", "a/b", "nul\x00.txt", "line\nbreak.txt", "bell\a.exe", `C:\Windows\x.dll`, "fine folder"} {
		entries = append(entries, wire.Entry{Name: n, Modified: now})
	}
	r := &RemoteSession{open: hostilePC{lines: []any{wire.FilesReply{Path: `C:\Users`, Entries: entries}}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, got, err := r.List(ctx, `C:\Users`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range got {
		names = append(names, e.Name)
	}
	if len(names) != 2 || names[0] != "ok.txt" || names[1] != "fine folder" {
		t.Fatalf("List kept %q, want only ok.txt and fine folder", names)
	}
}

// The PC's notices are shown in the chat like its messages, so they are
// cleaned like them: no bidi override turning a line around, no control
// characters, no notice past the chat's length.
func TestChatCleansThePCsNotices(t *testing.T) {
	long := strings.Repeat("x", wire.MaxChatText+1)
	r := &RemoteSession{open: hostilePC{lines: []any{
		wire.ChatMessage{Notice: "Nobody \u202Esees\u202C this\x1b[31m", Code: wire.ChatUnseen},
		wire.ChatMessage{Notice: long, Code: wire.ChatUnseen},
		wire.ChatMessage{Text: "last"},
	}}}
	got := make(chan wire.ChatMessage, 4)
	c, err := r.Chat(context.Background(), func(m wire.ChatMessage) { got <- m })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var notices []string
	for {
		var m wire.ChatMessage
		select {
		case m = <-got:
		case <-time.After(10 * time.Second):
			t.Fatalf("the PC's lines did not all arrive: %q so far", notices)
		}
		if m.Text == "last" {
			break
		}
		notices = append(notices, m.Notice)
	}
	if len(notices) != 1 || notices[0] != "Nobody sees this[31m" {
		t.Fatalf("the station shows the notices %.100q", notices)
	}
}
