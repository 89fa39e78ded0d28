//go:build linux

package support_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"image"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/yamux"

	"adhocstation/agent/agenttest"
	"adhocstation/agent/applog"
	"adhocstation/agent/pipe"
	"adhocstation/agent/screen"
	"adhocstation/agent/support"
	"adhocstation/agent/x11desk"
	"adhocstation/agent/x11desk/x11test"
	"adhocstation/core/coretest"
	"adhocstation/core/wire"
	"adhocstation/core/wire/frame"
)

// screenPC is the PC's side of a remote screen for real: the service logic
// (support.App) with its hub and a tray helper on a Unix socket, an Xvfb
// display with the test program on it, and a live channel (yamux over TCP
// on 127.0.0.1) whose other end the test drives as the station would.
type screenPC struct {
	t       testing.TB
	x       *x11test.Xvfb
	prog    *x11test.Program
	tray    *agenttest.Tray
	station *yamux.Session
	key     string
	log     coretest.LogBuffer
	// banner learns whom the screen helper's banner names (relayed only).
	banner chan string
}

const screenPassword = "Correct-Horse-7"

func newScreenPC(t testing.TB, w, h int, xvfbArgs ...string) *screenPC {
	return newScreenPCWith(t, w, h, false, xvfbArgs...)
}

// newScreenPCWith, relayed, serves the screen as the Windows service does:
// through a ScreenRelay to a screen helper (screen.Helper) parked on
// the pipe, which opens the X11 desktop.
func newScreenPCWith(t testing.TB, w, h int, relayed bool, xvfbArgs ...string) *screenPC {
	x, prog := agenttest.Display(t, w, h, xvfbArgs...)
	pc := &screenPC{t: t, x: x, prog: prog}

	rec := accountRecorder(t)
	who := agenttest.PeerCred
	if relayed {
		// What PipeCaller learns from the helper's token on Windows.
		who = func(c net.Conn) (pipe.Caller, error) {
			who, err := agenttest.PeerCred(c)
			who.System, who.Console, who.Installed = true, true, true
			return who, err
		}
	}
	service := agenttest.ServePipe(t, who)
	hub := service.Hub
	pc.tray = agenttest.NewTray(rec)
	service.JoinTray(pc.tray)

	app := &support.App{Sys: rec, UI: hub, Log: applog.New(&pc.log, "", 0),
		OpenDesktop: func() (screen.Desktop, error) { return x11desk.Open(x.Display) }}
	if relayed {
		relay := screen.NewRelay()
		hub.Screens = relay
		app.Screens, app.OpenDesktop = relay, nil
		pc.banner = make(chan string, 8)
		helper := &screen.Helper{
			Dial: service.Dial,
			Open: func() (screen.Desktop, error) { return x11desk.Open(x.Display) },
			Show: func(tech string) (<-chan struct{}, func()) {
				pc.banner <- tech
				return nil, func() {}
			},
		}
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		go helper.Run(ctx)
	}
	pc.station = agenttest.Loopback(t, app, "Tess Tech")
	pc.key = pc.signIn()
	return pc
}

// signIn opens the remote session's first stream with the password and
// keeps it open for the test; it returns the key further streams attach
// with.
func (pc *screenPC) signIn() string {
	s, err := pc.station.Open()
	if err != nil {
		pc.t.Fatal(err)
	}
	pc.t.Cleanup(func() { s.Close() })
	res := pc.first(s, bufio.NewReader(s), wire.SignIn{Technician: "Tess Tech", Password: screenPassword})
	if !res.OK || res.Key == "" {
		pc.t.Fatalf("sign-in: %+v", res)
	}
	return res.Key
}

func (pc *screenPC) first(s net.Conn, r *bufio.Reader, in wire.SignIn) wire.SignInResult {
	pc.t.Helper()
	_ = s.SetDeadline(time.Now().Add(coretest.WaitLimit))
	defer s.SetDeadline(time.Time{})
	b, _ := json.Marshal(in)
	if _, err := s.Write(append(b, '\n')); err != nil {
		pc.t.Fatal(err)
	}
	line, err := r.ReadBytes('\n')
	if err != nil {
		pc.t.Fatalf("no answer to the sign-in: %v", err)
	}
	var res wire.SignInResult
	if err := json.Unmarshal(line, &res); err != nil {
		pc.t.Fatal(err)
	}
	return res
}

// view is the station's end of a screen stream: it decodes frames onto
// img and acks them (unless noAck).
type view struct {
	t      testing.TB
	s      net.Conn
	r      *bufio.Reader
	dec    frame.Decoder
	img    *image.RGBA
	info   wire.ScreenInfo
	clip   []string
	stop   *wire.ScreenStop
	frames int
	bytes  int
	noAck  bool
	// noDecode acks frames without decoding them (benchmarks).
	noDecode bool
	wmu      sync.Mutex
}

func (pc *screenPC) open(o wire.ScreenOpen) *view {
	s, err := pc.station.Open()
	if err != nil {
		pc.t.Fatal(err)
	}
	pc.t.Cleanup(func() { s.Close() })
	v := &view{t: pc.t, s: s, r: bufio.NewReaderSize(s, 1<<20)}
	res := pc.first(s, v.r, wire.SignIn{Attach: pc.key, Technician: "Tess Tech", Screen: &o})
	if !res.OK {
		pc.t.Fatalf("screen stream refused: %+v", res)
	}
	return v
}

func (v *view) send(c wire.ScreenControl) {
	v.t.Helper()
	v.wmu.Lock()
	defer v.wmu.Unlock()
	b, _ := json.Marshal(c)
	if _, err := v.s.Write(append(b, '\n')); err != nil {
		v.t.Fatalf("control line: %v", err)
	}
}

func (v *view) input(evs ...wire.InputEvent) {
	for _, ev := range evs {
		v.send(wire.ScreenControl{Input: &ev})
	}
}

// next reads one message and applies it; it returns its kind, or an error
// when the stream ended or nothing came before the deadline.
func (v *view) next(deadline time.Time) (byte, error) {
	_ = v.s.SetReadDeadline(deadline)
	var head [wire.ScreenHeader]byte
	if _, err := ioReadFull(v.r, head[:]); err != nil {
		return 0, err
	}
	n := binary.BigEndian.Uint32(head[1:])
	if n > wire.MaxScreenMessage {
		v.t.Fatalf("a message of %d bytes", n)
	}
	payload := make([]byte, n)
	if _, err := ioReadFull(v.r, payload); err != nil {
		return 0, err
	}
	v.bytes += wire.ScreenHeader + int(n)
	switch head[0] {
	case wire.ScreenFrame:
		seq := seqOf(payload)
		if !v.noDecode {
			img, info, err := v.dec.Apply(v.img, payload)
			if err != nil {
				v.t.Fatalf("frame: %v", err)
			}
			v.img, seq = img, info.Seq
		}
		v.frames++
		if !v.noAck {
			v.send(wire.ScreenControl{Ack: seq})
		}
	case wire.ScreenInfoKind:
		v.info = wire.ScreenInfo{}
		must(v.t, json.Unmarshal(payload, &v.info))
	case wire.ScreenClipboard:
		var c wire.ClipboardText
		must(v.t, json.Unmarshal(payload, &c))
		v.clip = append(v.clip, c.Text)
	case wire.ScreenStopped:
		v.stop = &wire.ScreenStop{}
		must(v.t, json.Unmarshal(payload, v.stop))
	default:
		v.t.Fatalf("unknown message kind %q", head[0])
	}
	return head[0], nil
}

// until reads messages until ok holds, failing after WaitLimit with what
// was seen.
func (v *view) until(what string, ok func() bool) {
	v.t.Helper()
	deadline := time.Now().Add(coretest.WaitLimit)
	for !ok() {
		if _, err := v.next(deadline); err != nil {
			v.t.Fatalf("waiting for %s: %v (info %+v, %d frames, stop %+v)", what, err, v.info, v.frames, v.stop)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ioReadFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
