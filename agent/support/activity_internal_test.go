package support

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adhocstation/core/wire"
)

// shownLists is a UI that keeps the lists it is shown.
type shownLists struct {
	UI
	lists []wire.Activity
}

func (s *shownLists) ShowActivity(l wire.Activity) { s.lists = append(s.lists, l) }

// TestActivityBounds: the list keeps the newest MaxActivityEntries, counts
// the rest as earlier, keeps its bytes under MaxActivityBytes with long
// entries, and the tray says how many are not shown. The file holds what
// the tray shows, and a restarted app numbers on after it.
func TestActivityBounds(t *testing.T) {
	dir := t.TempDir()
	ui := &shownLists{}
	a := &App{UI: ui}
	a.openActivity(dir, 7)
	for i := range wire.MaxActivityEntries + 50 {
		a.note(wire.ActivityCommand, fmt.Sprintf("Ana ran command %d", i+1))
	}
	l := ui.lists[len(ui.lists)-1]
	if len(l.Entries) != wire.MaxActivityEntries || l.Earlier != 50 || l.Entries[0].Seq != 51 || l.Entries[0].Text != "Ana ran command 51" {
		t.Fatalf("%d entries kept, %d earlier, first %+v; want the newest %d and 50 earlier",
			len(l.Entries), l.Earlier, l.Entries[0], wire.MaxActivityEntries)
	}
	var tray ActivityList
	tray.Apply(ActivityUpdate{Full: true, Earlier: l.Earlier, Entries: l.Entries})
	if lines := tray.Lines(time.UTC); lines[0] != "50 earlier actions not shown" || len(lines) != wire.MaxActivityEntries+1 {
		t.Fatalf("the tray's first line is %q of %d", lines[0], len(lines))
	}

	long := strings.Repeat("C:\\Users\\anna\\a very long folder name\\", 20)
	for range wire.MaxActivityEntries {
		a.note(wire.ActivityList, "Ana looked at the folder "+long)
	}
	l = ui.lists[len(ui.lists)-1]
	b, _ := json.Marshal(l.Entries)
	if len(b) > wire.MaxActivityBytes || len(l.Entries) < 50 {
		t.Fatalf("%d entries of %d bytes kept; want under %d bytes and still many", len(l.Entries), len(b), wire.MaxActivityBytes)
	}
	if n := len(l.Entries[0].Text); n > wire.MaxActivityText {
		t.Fatalf("an entry of %d bytes was kept", n)
	}
	a.flushActivity()
	file, err := os.ReadFile(filepath.Join(dir, activityFile))
	if err != nil || len(file) > maxActivityFile {
		t.Fatalf("the file: %d bytes, %v", len(file), err)
	}

	a.note(wire.ActivityCommand, "Ana ran the last command before the restart")
	a.flushActivity()
	again := &App{UI: &shownLists{}}
	again.openActivity(dir, 7)
	again.note(wire.ActivityLeft, "Ana left")
	again.flushActivity() // its writer must be done before the folder is removed
	got := again.UI.(*shownLists).lists
	last := got[len(got)-1]
	if n := last.Entries[len(last.Entries)-1].Seq; n != uint64(2*wire.MaxActivityEntries+52) || last.Earlier+len(last.Entries) != int(n) ||
		last.Entries[len(last.Entries)-2].Text != "Ana ran the last command before the restart" {
		t.Fatalf("after a restart the next action is numbered %d with %d earlier", n, last.Earlier)
	}

	// Another session's file is not shown as this one's.
	other := &App{UI: &shownLists{}}
	other.openActivity(dir, 8)
	other.flushActivity()
	if lists := other.UI.(*shownLists).lists; len(lists) != 1 || len(lists[0].Entries) != 0 {
		t.Fatalf("a new session shows %d lists, the first with %d entries; want an empty one", len(lists), len(lists[0].Entries))
	}
}

// TestActivityCleaned: a path with a bidi override, zero-width and
// control characters, and a command line with them, are listed without
// them; the tray cleans what it is sent as well.
func TestActivityCleaned(t *testing.T) {
	ui := &shownLists{}
	a := &App{UI: ui}
	a.note(wire.ActivityList, noteList("Ana", "C:\\Users\\anna\\\u202Egnp.exe\u200B\x1b]0;pwned\x07", 2))
	a.note(wire.ActivityCommand, noteCommand("Ana", wire.ShellCmd, "\r\necho \u2066hi\u2069\r\n\r\nrem more\r\n"))
	l := ui.lists[len(ui.lists)-1]
	want := []string{`Ana looked at the folder C:\Users\anna\gnp.exe]0;pwned (2 items)`, "Ana ran a Command Prompt command: echo hi (and 1 more line)"}
	for i, e := range l.Entries {
		if e.Text != want[i] {
			t.Errorf("entry %d reads %q; want %q", i+1, e.Text, want[i])
		}
	}
	var tray ActivityList
	tray.Apply(ActivityUpdate{Entries: []wire.ActivityEntry{{Seq: 1, Text: "a\u202Eb\nc"}, {Seq: 1, Text: "again"}, {Seq: 2, Text: "d"}}})
	if len(tray.Entries) != 2 || tray.Entries[0].Text != "abc" {
		t.Fatalf("the tray keeps %+v; want the first cleaned and no entry twice", tray.Entries)
	}
}

func TestNoteCommandFirstLine(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{"ipconfig /all", "ran a PowerShell command: ipconfig /all"},
		{"Get-Process\n", "ran a PowerShell command: Get-Process"},
		{"a\nb\nc", "ran a PowerShell command: a (and 2 more lines)"},
		{strings.Repeat("x", 250), "ran a PowerShell command: " + strings.Repeat("x", 200) + " …"},
	} {
		if got := noteCommand("Ana", wire.ShellPowerShell, c.line); got != "Ana "+c.want {
			t.Errorf("%q is listed %q; want %q", c.line, got, "Ana "+c.want)
		}
	}
}

func TestSizeText(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 1: "1 byte", 1023: "1,023 bytes",
		1536: "1.5 KB, 1,536 bytes", 3565158: "3.4 MB, 3,565,158 bytes", 5 << 30: "5.0 GB, 5,368,709,120 bytes"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %q; want %q", n, got, want)
		}
	}
}

// TestScreenWatchSplitBytes: the watch finds the control lines and the
// PC's clipboard messages however the bytes are split across reads and
// writes, and notes the clipboard and Ctrl+Alt+Del only with Control on.
func TestScreenWatchSplitBytes(t *testing.T) {
	in := strings.Join([]string{
		`{"ack":3}`,
		`{"sas":true}`, // Control off: not applied, not listed
		`{"control":true}`,
		`{"input":{"kind":"text","text":"\"control\""}}`,
		`{"clipboard":"héllo"}`,
		`{"sas":true}`,
		`{"control":false}`,
		`{"clipboard":"ignored"}`,
	}, "\n") + "\n"
	msg := func(kind byte, payload string) []byte {
		b := []byte{kind, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[1:], uint32(len(payload)))
		return append(b, payload...)
	}
	var out []byte
	out = append(out, msg(wire.ScreenFrame, strings.Repeat("F", 1000))...)
	out = append(out, msg(wire.ScreenClipboard, `{"text":"x"}`)...)
	out = append(out, msg(wire.ScreenInfoKind, "")...)
	out = append(out, msg(wire.ScreenClipboard, `{"text":"C"}`)...)
	for _, step := range []int{1, 3, 7, 4096} {
		ui := &shownLists{}
		a := &App{UI: ui}
		var sink bytes.Buffer
		w := a.watchScreen("Ana", wire.ScreenOpen{}, strings.NewReader(in), &sink)
		buf := make([]byte, step)
		for {
			n, err := w.Read(buf)
			if n == 0 && err != nil {
				break
			}
		}
		for rest := out; len(rest) > 0; {
			k := min(step, len(rest))
			if _, err := w.Write(rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		if !bytes.Equal(sink.Bytes(), out) {
			t.Fatalf("step %d: the PC's bytes were changed on their way", step)
		}
		l := ui.lists[len(ui.lists)-1]
		var got []string
		for _, e := range l.Entries {
			got = append(got, e.Kind)
		}
		want := []string{wire.ActivityScreenOn, wire.ActivityControlOn, wire.ActivityClipIn, wire.ActivitySAS,
			wire.ActivityControlOff, wire.ActivityClipOut, wire.ActivityClipOut}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("step %d: noted %q; want %q", step, got, want)
		}
		if l.Entries[2].Text != "Ana put text on your clipboard (5 characters)" {
			t.Fatalf("step %d: %q", step, l.Entries[2].Text)
		}
	}
}

// TestReceiptWithoutListWhenRefused: a station that refuses the list as
// a bad request (one older than the list) still gets the receipt, which
// says the list was not taken.
func TestReceiptWithoutListWhenRefused(t *testing.T) {
	var bodies []wire.AgentRequest
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields() // as the station reads requests
		var req struct {
			AgentKey string `json:"agent_key"`
			Detail   string `json:"detail"`
		}
		if err := dec.Decode(&req); err != nil {
			var full wire.AgentRequest
			bodies = append(bodies, full)
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(wire.Error{Code: wire.CodeBadRequest, Message: "unknown field"})
			return
		}
		bodies = append(bodies, wire.AgentRequest{AgentKey: req.AgentKey, Detail: req.Detail})
		_ = json.NewEncoder(w).Encode(wire.StatusResponse{State: "ended"})
	}))
	defer srv.Close()
	sum := sha256.Sum256(srv.Certificate().RawSubjectPublicKeyInfo)
	c, err := NewClient(srv.URL, []string{base64.StdEncoding.EncodeToString(sum[:])})
	if err != nil {
		t.Fatal(err)
	}
	a := &App{}
	a.note(wire.ActivityConnected, "Ana connected to this PC")
	if err := a.cleanupReceipt(t.Context(), c, "key-0123456789abcdef", "app removed"); err != nil {
		t.Fatalf("the receipt: %v", err)
	}
	if len(bodies) != 2 || bodies[1].Detail != "app removed; the station did not take the PC's activity list" {
		t.Fatalf("the station got %+v; want a refused try, then the receipt saying the list was not taken", bodies)
	}
}

// BenchmarkActivityNote is what an action waits for when it is noted
// with the list full (200 entries of a long path each, at the byte
// bound): cleaned, the oldest dropped, the UI handed a copy, the writer
// woken. Every file listing of the technician costs one.
func BenchmarkActivityNote(b *testing.B) { benchmarkNote(b, false) }

// BenchmarkActivityNoteWritten is the same with each note's file written
// (marshalled, written to a temporary file, renamed) before the next: the
// whole cost, which the writer pays beside the action.
func BenchmarkActivityNoteWritten(b *testing.B) { benchmarkNote(b, true) }

func benchmarkNote(b *testing.B, written bool) {
	a := &App{UI: &countingShower{}}
	a.openActivity(b.TempDir(), 1)
	defer a.flushActivity()
	path := strings.Repeat(`C:\Users\anna\Documents\Projects\`, 6)
	for range wire.MaxActivityEntries {
		a.note(wire.ActivityList, noteList("Ana Tech", path, 12))
	}
	a.flushActivity()
	b.ReportAllocs()
	for b.Loop() {
		a.note(wire.ActivityList, noteList("Ana Tech", path, 12))
		if written {
			a.flushActivity()
		}
	}
}

type countingShower struct {
	UI
	n int
}

func (c *countingShower) ShowActivity(wire.Activity) { c.n++ }
