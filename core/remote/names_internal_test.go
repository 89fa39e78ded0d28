package remote

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
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

// Every sentence and name the PC sends for showing is cleaned as it is
// read: the System tab, the drives, the screen's monitors and a refusal's
// sentence cannot carry escape sequences, fake lines or bidi overrides.
func TestPCStringsShownAreCleaned(t *testing.T) {
	const dirty, clean = "PC\u202E\x1b[2J\nname", "PC[2Jname"
	st, pc := net.Pipe()
	go func() {
		defer pc.Close()
		if _, err := bufio.NewReader(pc).ReadSlice('\n'); err != nil {
			return
		}
		_ = json.NewEncoder(pc).Encode(wire.Reply{System: &wire.SystemInfo{ComputerName: dirty, Edition: dirty, Users: []string{dirty},
			Disks: []wire.Disk{{Name: dirty}}, Addresses: []wire.Interface{{Name: dirty, Addresses: []string{dirty}}}}})
	}()
	r := &RemoteSession{conn: st, r: bufio.NewReader(st)}
	info, err := r.System(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.ComputerName != clean || info.Edition != clean || info.Users[0] != clean || info.Disks[0].Name != clean ||
		info.Addresses[0].Name != clean || info.Addresses[0].Addresses[0] != clean {
		t.Errorf("the System tab gets %+v", info)
	}

	r = &RemoteSession{open: hostilePC{lines: []any{wire.FilesReply{Drives: []wire.Drive{{Path: `C:\`, Label: dirty, Kind: dirty}}}}}}
	drives, err := r.Drives(t.Context())
	if err != nil || len(drives) != 1 || drives[0].Label != clean || drives[0].Kind != clean || drives[0].Path != `C:\` {
		t.Errorf("drives %+v, %v", drives, err)
	}
	r = &RemoteSession{open: hostilePC{lines: []any{wire.FilesReply{Error: dirty, Code: wire.CodeFileDenied}}}}
	if _, _, err := r.List(t.Context(), `C:\`); !errors.Is(err, ErrRemoteFileDenied) || err.Error() != clean {
		t.Errorf("a refusal reads %q", err)
	}
	if err := stopReason(wire.ScreenStop{Reason: wire.ScreenStoppedError, Message: dirty}); err.Error() != clean {
		t.Errorf("a screen stop reads %q", err)
	}
	infoMsg, _ := json.Marshal(wire.ScreenInfo{Width: 8, Height: 8, Monitors: []wire.Monitor{{Name: dirty}}, SAS: dirty})
	sst, spc := net.Pipe()
	defer sst.Close()
	go func() {
		_, _ = spc.Write(screenMessage(wire.ScreenInfoKind, infoMsg))
		spc.Close()
	}()
	var si wire.ScreenInfo
	s := &Screen{conn: sst, out: make(chan []byte, screenQueue), done: make(chan struct{}), h: ScreenHandlers{Info: func(i wire.ScreenInfo) { si = i }}}
	_ = s.read(bufio.NewReader(sst))
	if len(si.Monitors) != 1 || si.Monitors[0].Name != clean || si.SAS != clean {
		t.Errorf("screen info %+v", si)
	}
}
