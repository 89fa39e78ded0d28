package core

import (
	"context"
	"slices"
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
