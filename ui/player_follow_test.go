package ui

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/record"
	"adhocstation/core/wire"
)

// gcmKey is a station key of the test's own, so a recording can be made
// with core/record alone (core's key is not exported).
type gcmKey struct{ aead cipher.AEAD }

func newGCMKey(t *testing.T) gcmKey {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	b, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return gcmKey{a}
}

func (g gcmKey) Seal(p, aad []byte) ([]byte, error) {
	n := make([]byte, g.aead.NonceSize())
	_, _ = rand.Read(n)
	return g.aead.Seal(n, n, p, aad), nil
}

func (g gcmKey) Open(s, aad []byte) ([]byte, error) {
	n := g.aead.NonceSize()
	return g.aead.Open(nil, s[:n], s[n:], aad)
}

// stepClock is the recorder's clock, moved by the test.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *stepClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// While playing, the player's list selects the row at the playing time
// and scrolls to it; that selection does not seek, so playing goes on to
// the end by itself.
func TestPlayerListFollowsPlayback(t *testing.T) {
	key, c := newGCMKey(t), &stepClock{t: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "session-1-20261206-090000-abcdef"+record.Ext)
	w, err := record.Create(path, key, record.Meta{SessionID: 1, Computer: "DESKTOP-7QK2", Technician: "Tom", Started: c.now()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	rec := record.Start(w, path, record.Options{Now: c.now, OnDone: func(record.Summary, bool) { close(done) }})
	const psOut = "\r\nStatus  Name\r\n" // PowerShell's output, with its empty first line
	// A command every 100 ms: far more rows than the list shows.
	for i := range 40 {
		c.add(100 * time.Millisecond)
		rec.Command(int64(i), wire.ShellPowerShell, fmt.Sprintf("Get-Service s%d", i))
		rec.Output(int64(i), []byte(psOut))
	}
	c.add(200 * time.Millisecond)
	rec.Close()
	coretest.Await(t, done, "the recording to be sealed")
	f, err := record.Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	events, err := f.Events()
	if err != nil {
		t.Fatal(err)
	}
	var o record.Output
	if err := events[1].Decode(&o); err != nil || o.Text != psOut {
		t.Fatalf("the recording's output %q (%v); want it as it came, %q", o.Text, err, psOut)
	}
	pw := newPlayerWindow(test.NewTempApp(t), nil, filepath.Base(path), f, core.Recording{SessionID: 1})
	t.Cleanup(pw.win.Close)
	pw.win.Resize(fyne.NewSize(900, 360))
	for _, e := range pw.events {
		if strings.TrimSpace(e.text) == "" {
			t.Fatalf("an empty row at %v among %d", e.t, len(pw.events))
		}
	}
	watch := watchWork(&pw.work)
	watch.during(t, jobPlayerFrame, func() { pw.seek(0) })
	if pw.followed != -1 {
		t.Fatalf("row %d selected before playing", pw.followed)
	}
	pw.speedSel.SetSelected("4×")
	test.Tap(pw.playBtn)
	var seen []int
	for {
		watch.wait(t, jobPlayerFrame)
		pw.work.mu.Lock()
		at, row, playing := pw.at, pw.followed, pw.playing
		pw.work.mu.Unlock()
		want := -1
		for i, e := range pw.events {
			if e.t <= at {
				want = i
			}
		}
		if row != want {
			t.Fatalf("at %v row %d is selected; want %d (%q)", at, row, want, pw.events[max(want, 0)].text)
		}
		if len(seen) == 0 || seen[len(seen)-1] != row {
			seen = append(seen, row)
		}
		if !playing {
			break
		}
	}
	if last := len(pw.events) - 1; len(seen) < 3 || seen[len(seen)-1] != last || !slices.IsSorted(seen) {
		t.Fatalf("rows followed %v; want at least 3, rising, to the last (%d)", seen, last)
	}
	if pw.log.GetScrollOffset() <= 0 {
		t.Fatal("the list did not scroll to the rows being played")
	}
}

// PowerShell's output starts with an empty line: the player's list shows
// no empty row for it (nor for blank lines inside). The recording keeps
// it (TestPlayerListFollowsPlayback).
func TestBlankOutputLinesGetNoRow(t *testing.T) {
	text := "\r\nStatus  Name\r\n\r\nRunning Spooler\r\n"
	payload, err := json.Marshal(record.Output{ID: 1, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	e, ok := eventLine(record.Record{Type: record.TypeOutput, T: time.Second, Payload: payload})
	if !ok {
		t.Fatal("the output is not listed")
	}
	var got []string
	for _, r := range eventRows(e) {
		got = append(got, r.text)
	}
	if want := []string{"   Status  Name", "   Running Spooler"}; !slices.Equal(got, want) {
		t.Errorf("rows %q; want %q", got, want)
	}
	// Blank lines of other events (a chat message's) are not output's.
	if rows := eventRows(playerEvent{typ: record.TypeChat, text: "Chat, Tom: a\n\nb"}); len(rows) != 3 {
		t.Errorf("a chat message's rows: %+v", rows)
	}
}
