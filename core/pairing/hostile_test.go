package pairing

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/yamux"

	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

// A PC whose agent key leaked may open channels in a loop and streams on
// them that the station never accepts, each filled with data. The station
// keeps two channels per session (closing the oldest) and resets all but a
// few of a channel's PC-opened streams, so its heap stays bounded.
// Before: 256 queued streams × 256 KiB on every channel, no cap on channels.
func TestHostilePCStreamsAndChannelsAreBounded(t *testing.T) {
	e := newEnv(t)
	_, prep := coretest.MustPrepare(t, e.st, "Ana", "ana@example.com")
	paired, err := e.st.Pair(t.Context(), core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "127.0.0.1:1", Facts: coretest.WindowsPC})
	if err != nil {
		t.Fatal(err)
	}
	c, err := support.NewClient(e.srv.URL(), e.srv.Pins())
	if err != nil {
		t.Fatal(err)
	}
	const channels, streams = 4, 300
	var chans []*yamux.Session
	t.Cleanup(func() {
		for _, ys := range chans {
			ys.Close()
		}
	})
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	before := heap()
	for i := range channels {
		ys, _, err := c.OpenChannel(t.Context(), paired.AgentKey, support.ChannelTiming{})
		if err != nil {
			t.Fatalf("channel %d: %v", i+1, err)
		}
		chans = append(chans, ys)
	}
	// Two were closed by the station when the newer ones came: the oldest
	// by the order the station registered them in, which under load may
	// differ from the order of the answers the PC read (each is registered
	// just after its 101 is written), so any two.
	deadline := time.Now().Add(30 * time.Second) // failsafe only
	for {
		closed := 0
		for _, ys := range chans {
			if ys.IsClosed() {
				closed++
			}
		}
		if closed == channels-2 {
			break
		}
		if closed > channels-2 || time.Now().After(deadline) {
			t.Fatalf("%d of %d channels closed by the station; want the oldest %d closed and 2 kept", closed, channels, channels-2)
		}
		time.Sleep(5 * time.Millisecond)
	}
	chunk := bytes.Repeat([]byte{'x'}, 256<<10)
	for _, ys := range chans {
		for range streams {
			s, err := ys.OpenStream()
			if err != nil {
				break // closed by the station
			}
			_, _ = s.Write(chunk) // reset streams refuse it; the rest fit their window
		}
		// A ping is answered after the station read every frame sent before it.
		_, _ = ys.Ping()
	}
	grown := int64(heap()) - int64(before)
	t.Logf("heap grew %.1f MB with %d channels × %d streams of 256 KiB", float64(grown)/(1<<20), channels, streams)
	if grown > 16<<20 {
		t.Fatalf("the station's heap grew %.0f MB from one PC's streams and channels; want at most 16", float64(grown)/(1<<20))
	}
	if !e.st.ChannelUp(prep.Session.ID) {
		t.Error("the newest channel is not counted: the PC shows offline")
	}
}

// Made-up keys filling the per-key limiter's table must not give a real
// (paired) key a fresh minute: the limiter keeps the counts of keys core
// accepted when it makes room.
func TestAgentLimiterKeepsRealKeysWhenFlooded(t *testing.T) {
	var l agentLimiter
	now := time.Now()
	for range agentCalls {
		if l.take("real key", now) > 0 {
			t.Fatal("the real key was limited before its 30 calls")
		}
	}
	l.known("real key")
	for i := range maxLimited + 10 {
		l.take("made-up "+strconv.Itoa(i), now)
	}
	if l.take("real key", now) == 0 {
		t.Fatal("after a flood of made-up keys the real key's count started over")
	}
	if _, ok := l.keys[sha256.Sum256([]byte("made-up 1"))]; ok {
		t.Error("the made-up keys were not dropped")
	}
}

// A PC's name and cleanup receipt reach the audit log, the station's log
// and its windows: escape sequences, line breaks faking another audit line
// and bidi overrides are cleaned where they enter, and the receipt's cut
// never splits a character.
func TestPCStringsAreCleanedWhereTheyEnter(t *testing.T) {
	e := newEnv(t)
	_, prep := coretest.MustPrepare(t, e.st, "Ana", "ana@example.com")
	body := pairBody(prep.Session.Token, prep.Code)
	body.Facts.Hostname = "PC\x1b[2J\nremote sign-in refused: Ana typed a wrong \u202Epassword"
	body.Facts.WindowsUser = "anna\r\nfake"
	r := e.post("/api/v1/pair", body)
	var got wire.PairResponse
	if r.status != http.StatusOK || json.Unmarshal(r.body, &got) != nil {
		t.Fatalf("pair: %d %s", r.status, r.body)
	}
	sess, err := e.st.Session(t.Context(), prep.Session.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := "PC[2Jremote sign-in refused: Ana typed a wrong password"; sess.Computer.Hostname != want || sess.Computer.WindowsUser != "annafake" {
		t.Errorf("stored name %q, user %q", sess.Computer.Hostname, sess.Computer.WindowsUser)
	}
	detail := strings.Repeat("a", 499) + "é and more\n\x1b[31m"
	if r := e.post("/api/v1/cleanup", wire.AgentRequest{AgentKey: got.AgentKey, Detail: detail}); r.status != http.StatusOK {
		t.Fatalf("cleanup: %d %s", r.status, r.body)
	}
	rows, err := e.st.Audit(t.Context(), core.AuditFilter{})
	if err != nil || len(rows) == 0 {
		t.Fatal(rows, err)
	}
	for _, row := range rows {
		if !utf8.ValidString(row.Detail) || strings.ContainsAny(row.Detail, "\x1b\n\r\u202E") {
			t.Errorf("audit row %q has detail %q", row.Event, row.Detail)
		}
	}
}
