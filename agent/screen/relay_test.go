//go:build !windows

package screen_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"image"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adhocstation/agent/pipe"
	"adhocstation/agent/screen"
	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

// screenRig is the Windows arrangement on a Unix socket: the service's hub
// with a Relay, and the screen helper (screen.Helper) parked
// on it with an in-memory desktop in place of the Windows one.
type screenRig struct {
	t        *testing.T
	hub      *pipe.Hub
	relay    *screen.Relay
	sock     string
	cancel   context.CancelFunc
	done     chan error // the helper's Run
	shown    chan string
	hidden   chan string
	userStop chan struct{} // the banner's Stop button
	openErr  error
}

func newScreenRig(t *testing.T, who pipe.Caller, serve func(io.ReadWriter, screen.Desktop, wire.ScreenOpen, <-chan struct{}) error) *screenRig {
	r := &screenRig{t: t, sock: filepath.Join(t.TempDir(), "pipe"), done: make(chan error, 1), shown: make(chan string, 4),
		hidden: make(chan string, 4), userStop: make(chan struct{})}
	ln, err := net.Listen("unix", r.sock)
	if err != nil {
		t.Fatal(err)
	}
	r.relay = screen.NewRelay()
	r.hub = pipe.NewHub(func(net.Conn) (pipe.Caller, error) { return who, nil })
	r.hub.Screens = r.relay
	go r.hub.Serve(ln)
	t.Cleanup(r.hub.Close)
	t.Cleanup(r.relay.Close)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	t.Cleanup(cancel)
	h := &screen.Helper{
		Dial: func(ctx context.Context) (net.Conn, error) { return (&net.Dialer{}).DialContext(ctx, "unix", r.sock) },
		Open: func() (screen.Desktop, error) {
			if r.openErr != nil {
				return nil, r.openErr
			}
			return &memDesktop{}, nil
		},
		Show: func(tech string) (<-chan struct{}, func()) {
			r.shown <- tech
			return r.userStop, func() { r.hidden <- tech }
		},
		Serve: serve,
	}
	go func() { r.done <- h.Run(ctx) }()
	return r
}

// stream starts a screen stream through the relay, as the live channel
// would, and returns the station's end and where Serve's result comes.
func (r *screenRig) stream(stop <-chan struct{}) (net.Conn, chan error) {
	station, pc := net.Pipe()
	r.t.Cleanup(func() { station.Close() })
	res := make(chan error, 1)
	go func() {
		res <- r.relay.Serve("Tess Tech", wire.ScreenOpen{Monitor: 0, MaxFPS: 30}, pc, stop)
		pc.Close()
	}()
	return station, res
}

func readScreenMessage(t *testing.T, r io.Reader) (byte, []byte) {
	t.Helper()
	var hdr [wire.ScreenHeader]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		t.Fatalf("reading a screen message: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatalf("reading a screen message's payload: %v", err)
	}
	return hdr[0], b
}

func writeMessage(w io.Writer, kind byte, v any) error {
	b, _ := json.Marshal(v)
	hdr := make([]byte, wire.ScreenHeader)
	hdr[0] = kind
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(b)))
	_, err := w.Write(append(hdr, b...))
	return err
}

// echoServe stands in for Serve: it sends the desktop's info, then
// answers each control line's clipboard text with a clipboard message,
// and ends with ScreenStopped when the user presses Stop.
func echoServe(rw io.ReadWriter, d screen.Desktop, _ wire.ScreenOpen, stop <-chan struct{}) error {
	info, _ := d.Info()
	if err := writeMessage(rw, wire.ScreenInfoKind, info); err != nil {
		return err
	}
	lines := make(chan wire.ScreenControl)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(rw)
		for sc.Scan() {
			var c wire.ScreenControl
			if json.Unmarshal(sc.Bytes(), &c) == nil {
				lines <- c
			}
		}
	}()
	for {
		select {
		case <-stop:
			return writeMessage(rw, wire.ScreenStopped, wire.ScreenStop{Reason: wire.ScreenStoppedByUser, Message: "stopped in the banner"})
		case c, ok := <-lines:
			if !ok {
				return nil
			}
			if c.Clipboard != nil {
				if err := writeMessage(rw, wire.ScreenClipboard, wire.ClipboardText{Text: *c.Clipboard}); err != nil {
					return err
				}
			}
		}
	}
}

var screenHelperCaller = pipe.Caller{User: `NT AUTHORITY\SYSTEM`, Admin: true, System: true, Console: true, Installed: true}

// TestScreenRelayedToHelper: a screen stream reaches the helper through a
// parked connection, both ways; the user is shown who is viewing; a second
// stream finds the next parked connection; Stop in the banner ends the
// view with the helper's own message and hides the banner.
func TestScreenRelayedToHelper(t *testing.T) {
	r := newScreenRig(t, screenHelperCaller, echoServe)
	station, res := r.stream(nil)
	if kind, b := readScreenMessage(t, station); kind != wire.ScreenInfoKind || !strings.Contains(string(b), `"desktop":"default"`) {
		t.Fatalf("first message %c %s; want the desktop's info", kind, b)
	}
	if who := coretest.Receive(t, r.shown, "the banner to name the technician"); who != "Tess Tech" {
		t.Fatalf("the banner names %q", who)
	}
	text := "from the technician"
	line, _ := json.Marshal(wire.ScreenControl{Clipboard: &text})
	if _, err := station.Write(append(line, '\n')); err != nil {
		t.Fatal(err)
	}
	if kind, b := readScreenMessage(t, station); kind != wire.ScreenClipboard || !strings.Contains(string(b), text) {
		t.Fatalf("got %c %s; want the clipboard echoed", kind, b)
	}

	second, _ := r.stream(nil)
	if kind, _ := readScreenMessage(t, second); kind != wire.ScreenInfoKind {
		t.Fatalf("the second stream started with %c", kind)
	}
	coretest.Receive(t, r.shown, "the banner for the second stream")

	close(r.userStop)
	for _, s := range []net.Conn{station, second} {
		kind, b := readScreenMessage(t, s)
		var stop wire.ScreenStop
		if kind != wire.ScreenStopped || json.Unmarshal(b, &stop) != nil || stop.Reason != wire.ScreenStoppedByUser {
			t.Fatalf("after Stop: %c %s; want ScreenStopped by the user", kind, b)
		}
	}
	if err := coretest.Receive(t, res, "the relay's Serve to return"); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	coretest.Receive(t, r.hidden, "the banner to be hidden")
	coretest.Receive(t, r.hidden, "the second banner to be hidden")
}

// TestScreenRelayStoppedFromTray: the user stops the viewing from the tray (the
// service closes stop): the technician is told, the helper's stream ends
// and its banner goes.
func TestScreenRelayStoppedFromTray(t *testing.T) {
	r := newScreenRig(t, screenHelperCaller, echoServe)
	stop := make(chan struct{})
	station, res := r.stream(stop)
	readScreenMessage(t, station)
	coretest.Receive(t, r.shown, "the banner")
	close(stop)
	kind, b := readScreenMessage(t, station)
	var s wire.ScreenStop
	if kind != wire.ScreenStopped || json.Unmarshal(b, &s) != nil || s.Reason != wire.ScreenStoppedByUser || s.Message == "" {
		t.Fatalf("got %c %s; want ScreenStopped by the user with a sentence", kind, b)
	}
	coretest.Receive(t, res, "Serve to return")
	coretest.Receive(t, r.hidden, "the banner to be hidden")
}

// TestScreenRelayHelperGone: the helper process ends (console session
// change) in the middle of a view: the technician is told why.
func TestScreenRelayHelperGone(t *testing.T) {
	started := make(chan struct{}, 1)
	r := newScreenRig(t, screenHelperCaller, func(rw io.ReadWriter, d screen.Desktop, o wire.ScreenOpen, stop <-chan struct{}) error {
		started <- struct{}{}
		return echoServe(rw, d, o, stop)
	})
	station, _ := r.stream(nil)
	readScreenMessage(t, station)
	coretest.Receive(t, started, "the helper to serve")
	r.cancel()      // the helper stops parking
	r.relay.Close() // and its connections go, as when its process ends
	r.hub.Close()
	for {
		kind, b := readScreenMessage(t, station)
		if kind != wire.ScreenStopped {
			continue
		}
		var s wire.ScreenStop
		if json.Unmarshal(b, &s) != nil || s.Reason != wire.ScreenStoppedError || !strings.Contains(s.Message, "helper") {
			t.Fatalf("got %s; want ScreenStopped with the helper's reason", b)
		}
		return
	}
}

// TestScreenRelayHelperRefused: only a SYSTEM process in the console session
// running the installed program may serve the screen; anyone else is not
// parked and a stream finds no desktop.
func TestScreenRelayHelperRefused(t *testing.T) {
	for name, who := range map[string]pipe.Caller{
		"not SYSTEM":      {User: `PC\user`, Admin: true, Console: true, Installed: true},
		"not the console": {User: "SYSTEM", System: true, Installed: true},
		"another program": {User: "SYSTEM", System: true, Console: true},
	} {
		t.Run(name, func(t *testing.T) {
			r := newScreenRig(t, who, echoServe)
			r.relay.Wait = 300 * time.Millisecond
			station, res := r.stream(nil)
			expectStopped(t, station, "not running")
			if err := coretest.Receive(t, res, "Serve to give up"); !errors.Is(err, screen.ErrNoDesktop) {
				t.Fatalf("Serve: %v; want ErrNoDesktop", err)
			}
		})
	}
}

// TestScreenRelayDesktopCannotOpen: the helper cannot open the desktop; the
// service's Serve says why, and the helper keeps serving later streams.
func TestScreenRelayDesktopCannotOpen(t *testing.T) {
	r := newScreenRig(t, screenHelperCaller, echoServe)
	r.openErr = errors.New("OpenInputDesktop: access denied")
	station, res := r.stream(nil)
	expectStopped(t, station, "access denied")
	err := coretest.Receive(t, res, "Serve to fail")
	if !errors.Is(err, screen.ErrNoDesktop) || !strings.Contains(err.Error(), "access denied") {
		t.Fatalf("Serve: %v; want ErrNoDesktop with the helper's reason", err)
	}
}

// expectStopped reads the one message of a stream that could not start:
// ScreenStopped with a sentence containing want.
func expectStopped(t *testing.T, station io.Reader, want string) {
	t.Helper()
	kind, b := readScreenMessage(t, station)
	var s wire.ScreenStop
	if kind != wire.ScreenStopped || json.Unmarshal(b, &s) != nil || s.Reason != wire.ScreenStoppedError || !strings.Contains(s.Message, want) {
		t.Fatalf("got %c %s; want ScreenStopped saying %q", kind, b, want)
	}
}

// memDesktop is the Windows desktop's stand-in: a blank 64×48 screen.
type memDesktop struct{}

func (*memDesktop) Info() (wire.ScreenInfo, error) {
	return wire.ScreenInfo{Monitors: []wire.Monitor{{Name: "mem", Width: 64, Height: 48, Primary: true}}, Desktop: "default"}, nil
}
func (*memDesktop) Capture(_ int, dst *image.RGBA) (*image.RGBA, error) {
	if dst == nil {
		dst = image.NewRGBA(image.Rect(0, 0, 64, 48))
	}
	return dst, nil
}
func (*memDesktop) Inject(int, wire.InputEvent) error { return nil }
func (*memDesktop) Clipboard() (string, error)        { return "", nil }
func (*memDesktop) SetClipboard(string) error         { return nil }
func (*memDesktop) SendSAS() error                    { return screen.ErrSASUnavailable }
func (*memDesktop) Close() error                      { return nil }
