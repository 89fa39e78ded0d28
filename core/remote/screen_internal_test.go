package remote

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"testing"

	"adhocstation/core/wire"
)

// screenMessage is one binary message as the PC sends it.
func screenMessage(kind byte, payload []byte) []byte {
	b := make([]byte, wire.ScreenHeader, wire.ScreenHeader+len(payload))
	b[0] = kind
	binary.BigEndian.PutUint32(b[1:], uint32(len(payload)))
	return append(b, payload...)
}

// What the PC sends decides how a view ends: the user's stop reads as
// its sentence, the PC's own sentence as it is, and anything the station
// cannot read — an unknown kind, a message over the bound, a frame the
// decoder refuses, bad JSON — ends it as garbled; a cut stream is gone.
func TestScreenEndReasons(t *testing.T) {
	stop := func(reason, msg string) []byte {
		b, _ := json.Marshal(wire.ScreenStop{Reason: reason, Message: msg})
		return screenMessage(wire.ScreenStopped, b)
	}
	huge := screenMessage(wire.ScreenFrame, nil)
	binary.BigEndian.PutUint32(huge[1:], wire.MaxScreenMessage+1)
	info, _ := json.Marshal(wire.ScreenInfo{Width: 10, Height: 10, SAS: "policy"})
	// The Screen tab lists the monitors in a choice: a hostile PC's
	// million would hang the window.
	manyMonitors, _ := json.Marshal(wire.ScreenInfo{Width: 10, Height: 10, Monitors: make([]wire.Monitor, 100_000)})
	for _, c := range []struct {
		name string
		sent []byte
		want error
		text string
	}{
		{"user", stop(wire.ScreenStoppedByUser, "stopped"), ErrScreenStoppedByUser, ""},
		{"pc", stop(wire.ScreenStoppedError, "The desktop went away."), nil, "The desktop went away."},
		{"unknown kind", screenMessage('X', []byte("{}")), ErrScreenGarbled, ""},
		{"too long", huge, ErrScreenGarbled, ""},
		{"bad frame", screenMessage(wire.ScreenFrame, []byte{1, 2, 3}), ErrScreenGarbled, ""},
		{"bad info", screenMessage(wire.ScreenInfoKind, []byte("{")), ErrScreenGarbled, ""},
		{"too many monitors", screenMessage(wire.ScreenInfoKind, manyMonitors), ErrScreenGarbled, ""},
		{"cut", append(screenMessage(wire.ScreenInfoKind, info), 'F', 0), ErrRemoteGone, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, pc := net.Pipe()
			defer st.Close()
			go func() {
				_, _ = pc.Write(c.sent)
				pc.Close()
			}()
			go func() { // the station's acks and controls, unread here
				b := make([]byte, 1024)
				for {
					if _, err := pc.Read(b); err != nil {
						return
					}
				}
			}()
			var got wire.ScreenInfo
			s := &Screen{conn: st, out: make(chan []byte, screenQueue), done: make(chan struct{}),
				h: ScreenHandlers{Info: func(i wire.ScreenInfo) { got = i }}}
			err := s.read(bufio.NewReader(st))
			switch {
			case c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("ended with %v, want %v", err, c.want)
			case c.text != "" && (err == nil || err.Error() != c.text):
				t.Fatalf("ended with %v, want the PC's sentence %q", err, c.text)
			}
			if c.name == "cut" && got.SAS != "policy" {
				t.Errorf("the info before the cut was not delivered: %+v", got)
			}
		})
	}
}
