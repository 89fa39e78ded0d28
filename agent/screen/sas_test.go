//go:build !windows

package screen_test

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"adhocstation/agent/screen"
	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

// sasDesktop is the helper's desktop, recording what reaches it.
type sasDesktop struct {
	screen.Desktop
	sas  chan struct{} // the helper's SendSAS: must never be called
	clip chan string
}

func (d *sasDesktop) SendSAS() error { d.sas <- struct{}{}; return nil }
func (d *sasDesktop) SetClipboard(s string) error {
	d.clip <- s
	return nil
}

// sasRig is the relay and helper with the helper's real Serve on a
// recording desktop; the service's SendSAS answers from sent.
func sasRig(t *testing.T, sent func() error) (net.Conn, *sasDesktop) {
	station, desk := sasStream(t, sent)
	if kind, _ := readScreenMessage(t, station); kind != wire.ScreenInfoKind {
		t.Fatalf("the stream started with %c", kind)
	}
	go func() { _, _ = io.Copy(io.Discard, station) }() // frames; the tests read what they need after
	return station, desk
}

func sendLine(t *testing.T, w io.Writer, line string) {
	t.Helper()
	if _, err := io.WriteString(w, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// TestScreenRelaySendsSAS: with Control on, the station's Ctrl+Alt+Del is
// sent by the service (the relay's SendSAS), never by the helper's
// desktop; without Control neither it nor a clipboard is applied; a long
// line with sas and a clipboard gives the helper the clipboard.
func TestScreenRelaySendsSAS(t *testing.T) {
	calls := make(chan struct{}, 8)
	station, desk := sasRig(t, func() error { calls <- struct{}{}; return nil })
	sendLine(t, station, `{"sas":true}`)             // Control off: ignored, as Serve would
	sendLine(t, station, `{"clipboard":"too soon"}`) // the helper ignores it
	sendLine(t, station, `{"control":true}`)
	sendLine(t, station, `{"SAS":true}`) // encoding/json matches any case
	sendLine(t, station, `{"clipboard":"in order"}`)
	// The helper got the clipboard line, so the relay has read every line
	// before it: SendSAS has run for each of them that it ran for.
	if got := coretest.Receive(t, desk.clip, "the clipboard at the helper"); got != "in order" {
		t.Fatalf("the helper's clipboard was set to %q with Control off", got)
	}
	coretest.Receive(t, calls, "the service's SendSAS")
	if n := len(calls); n != 0 {
		t.Fatalf("SendSAS ran %d more times; the line without Control must not send it", n)
	}
	// A line longer than a read buffer (a pasted script) is read whole.
	long := strings.Repeat("Get-Process | Sort-Object CPU\n", 100_000/30)
	b, _ := json.Marshal(map[string]any{"clipboard": long, "sas": true})
	sendLine(t, station, string(b))
	coretest.Receive(t, calls, "the second SendSAS")
	if got := coretest.Receive(t, desk.clip, "the clipboard line's text at the helper"); got != long {
		t.Fatalf("the helper's clipboard got %d bytes, want %d", len(got), len(long))
	}
	// The helper has read every line before the clipboard's.
	if n := len(desk.sas); n != 0 {
		t.Fatalf("the helper's desktop was asked for Ctrl+Alt+Del %d times; only the service may send it", n)
	}
}

// TestScreenServeNeedsControl: Serve's own path (the helper's, and the
// PC's without a relay) applies neither a clipboard nor Ctrl+Alt+Del while
// Control is off, and both once it is on; Control off again stops them.
func TestScreenServeNeedsControl(t *testing.T) {
	desk := &sasDesktop{Desktop: &memDesktop{}, sas: make(chan struct{}, 8), clip: make(chan string, 8)}
	station, pc := net.Pipe()
	t.Cleanup(func() { station.Close() })
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() { _ = screen.Serve(pc, desk, wire.ScreenOpen{MaxFPS: 30}, stop); pc.Close() }()
	go func() { _, _ = io.Copy(io.Discard, station) }()
	for _, l := range []string{`{"sas":true}`, `{"clipboard":"off 1"}`, `{"control":true}`, `{"clipboard":"on"}`} {
		sendLine(t, station, l)
	}
	// Lines are applied in order: the clipboard set with Control on comes
	// first, and by then the sas line before it was applied or not.
	if got := coretest.Receive(t, desk.clip, "the clipboard with Control on"); got != "on" {
		t.Fatalf("the clipboard was set to %q with Control off", got)
	}
	if n := len(desk.sas); n != 0 {
		t.Fatalf("Ctrl+Alt+Del was sent %d times with Control off", n)
	}
	for _, l := range []string{`{"sas":true}`, `{"control":false}`, `{"sas":true}`, `{"clipboard":"off 2"}`, `{"control":true}`, `{"clipboard":"on again"}`} {
		sendLine(t, station, l)
	}
	coretest.Receive(t, desk.sas, "Ctrl+Alt+Del with Control on")
	if got := coretest.Receive(t, desk.clip, "the clipboard with Control on again"); got != "on again" {
		t.Fatalf("the clipboard was set to %q after Control went off", got)
	}
	if n := len(desk.sas); n != 0 {
		t.Fatalf("Ctrl+Alt+Del was sent %d more times, with Control off", n)
	}
}

// TestScreenRelaySASControlFromOpen: a stream opened with Control on
// (ScreenOpen.Control) sends Ctrl+Alt+Del without a control line first.
func TestScreenRelaySASControlFromOpen(t *testing.T) {
	calls := make(chan struct{}, 8)
	r := newScreenRig(t, screenHelperCaller, echoServe)
	r.relay.SendSAS = func() error { calls <- struct{}{}; return nil }
	station, pc := net.Pipe()
	t.Cleanup(func() { station.Close() })
	go func() {
		_ = r.relay.Serve("Tess Tech", wire.ScreenOpen{Control: true}, pc, nil)
		pc.Close()
	}()
	readScreenMessage(t, station)
	go func() { _, _ = io.Copy(io.Discard, station) }()
	sendLine(t, station, `{"sas":true}`)
	coretest.Receive(t, calls, "the service's SendSAS")
}

// TestScreenRelaySASRefused: the service's SendSAS refuses (the policy);
// the technician gets the helper's ScreenInfo again with the sentence, as
// Serve reports a refusal, and later ScreenInfos keep it.
func TestScreenRelaySASRefused(t *testing.T) {
	for name, send := range map[string]func() error{
		"policy": func() error {
			return errors.Join(screen.ErrSASUnavailable, errors.New("the policy SoftwareSASGeneration is not set"))
		},
		"no SendSAS": nil,
	} {
		t.Run(name, func(t *testing.T) {
			station, desk := sasStream(t, send)
			_ = station.SetDeadline(time.Now().Add(coretest.WaitLimit))
			// Written while the test reads: net.Pipe has no buffer.
			go func() {
				for _, l := range []string{`{"control":true}`, `{"sas":true}`, `{"monitor":-1}`} { // the helper sends its ScreenInfo again
					if _, err := io.WriteString(station, l+"\n"); err != nil {
						return
					}
				}
			}()
			want := "cannot send"
			if send != nil {
				want = "SoftwareSASGeneration"
			}
			refusals := 0
			for refusals < 2 {
				kind, b := readScreenMessage(t, station)
				if kind != wire.ScreenInfoKind {
					continue
				}
				var info wire.ScreenInfo
				if err := json.Unmarshal(b, &info); err != nil {
					t.Fatal(err)
				}
				if info.SAS == "" {
					if refusals > 0 {
						t.Fatalf("a ScreenInfo after the refusal lost it: %s", b)
					}
					continue
				}
				if !strings.Contains(info.SAS, want) || len(info.Monitors) != 1 {
					t.Fatalf("ScreenInfo %s; want the monitors and a sentence with %q", b, want)
				}
				refusals++
			}
			if n := len(desk.sas); n != 0 {
				t.Fatalf("the helper's desktop was asked for Ctrl+Alt+Del %d times", n)
			}
		})
	}
}

// sasStream opens a screen stream through the relay to a helper serving a
// recording desktop, the service's SendSAS answering from sent.
func sasStream(t *testing.T, sent func() error) (net.Conn, *sasDesktop) {
	desk := &sasDesktop{sas: make(chan struct{}, 8), clip: make(chan string, 8)}
	r := newScreenRig(t, screenHelperCaller, func(rw io.ReadWriter, d screen.Desktop, o wire.ScreenOpen, stop <-chan struct{}) error {
		desk.Desktop = d
		return screen.Serve(rw, desk, o, stop)
	})
	r.relay.SendSAS = sent
	station, _ := r.stream(nil)
	return station, desk
}
