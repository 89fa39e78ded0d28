//go:build !windows

package agenttest

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	"adhocstation/agent/pipe"
	"adhocstation/agent/support"
	"adhocstation/core/coretest"
)

// Pipe is the service's hub on a Unix socket, as on the Windows named
// pipe; it closes with the test.
type Pipe struct {
	Hub *pipe.Hub
	// Sock is the socket's path, for helpers that dial it themselves.
	Sock  string
	t     testing.TB
	trays chan struct{}
}

// ServePipe starts a hub whose callers are named by who (PeerCred, or a
// fixed Caller).
func ServePipe(t testing.TB, who func(net.Conn) (pipe.Caller, error)) *Pipe {
	t.Helper()
	p := &Pipe{Hub: pipe.NewHub(who), Sock: filepath.Join(t.TempDir(), "AdHocSupport.pipe"), t: t,
		trays: make(chan struct{}, 8)}
	p.Hub.OnJoin = func(role string, _ pipe.Caller) {
		if role == pipe.RoleTray {
			p.trays <- struct{}{}
		}
	}
	ln, err := net.Listen("unix", p.Sock)
	if err != nil {
		t.Fatal(err)
	}
	go p.Hub.Serve(ln)
	t.Cleanup(p.Hub.Close)
	return p
}

// JoinTray connects a tray helper showing ui and returns once the hub has
// it; the helper ends with the test.
func (p *Pipe) JoinTray(ui support.UI) {
	p.t.Helper()
	conn, err := net.Dial("unix", p.Sock)
	if err != nil {
		p.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.t.Cleanup(cancel)
	go pipe.RunHelper(ctx, conn, pipe.RoleTray, ui)
	coretest.Receive(p.t, p.trays, "the tray helper to join the service")
}

// Dial connects to the hub as a helper does (screen.Helper's Dial).
func (p *Pipe) Dial(ctx context.Context) (net.Conn, error) {
	return (&net.Dialer{}).DialContext(ctx, "unix", p.Sock)
}
