package winsys

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
	"unsafe"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// TestPipeCallerFacts: the service names a pipe client by its process: this
// test process is in the console session, is not SYSTEM and does not run
// the installed program, so it may not be the screen helper. And a client
// refuses a pipe whose server is not SYSTEM (a squatter's).
func TestPipeCallerFacts(t *testing.T) {
	ln, err := ListenPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Under Wine a client that connects before the server waits for one
	// may never be accepted: it is dialled again until it is.
	var server net.Conn
	for server == nil {
		client, err := winio.DialPipeAccess(ctx, PipeName, pipeUserAccess)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		select {
		case server = <-accepted:
		case <-time.After(500 * time.Millisecond):
			client.Close()
		case <-ctx.Done():
			t.Fatal("no client was accepted within 10 s")
		}
	}
	defer server.Close()
	who, err := PipeCaller(server)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("caller %+v", who)
	if !who.Console {
		t.Error("this process is in the console session, PipeCaller says it is not")
	}
	if who.Installed {
		t.Error("this test is not the installed program, PipeCaller says it is")
	}
	if who.System {
		t.Skip("the test runs as SYSTEM: the squatter check cannot be shown")
	}
	// The real pipe, dialled until the fourth pause: each dial reaches
	// this test's server, a squatter; each is closed and dialled again.
	tries := &pausesThenStop{pipeEnds: realPipe{}, left: 3}
	if c, err := dialService(ctx, tries); !errors.Is(err, errSquatter) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("dialService = %v, want the squatter refused", err)
	}
	if tries.paused != 4 {
		t.Errorf("%d pauses, want 4: a squatter is dialled past, not given up on", tries.paused)
	}
}

// pausesThenStop lets dialService pause left times, then ends the dial.
type pausesThenStop struct {
	pipeEnds
	left, paused int
}

func (p *pausesThenStop) Pause(ctx context.Context, d time.Duration) error {
	p.paused++
	if p.paused > p.left {
		return context.Canceled
	}
	return p.pipeEnds.Pause(ctx, d)
}

// The pipe's descriptor grants interactive users 0x12019b (read and write
// without create-pipe-instance), as Windows parses the SDDL, and the
// listening pipe carries that descriptor.
func TestPipeDescriptor(t *testing.T) {
	sd, err := windows.SecurityDescriptorFromString(pipeSDDL)
	if err != nil {
		t.Fatal(err)
	}
	checkIUMask(t, "parsed SDDL", sd)
	ln, err := ListenPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := winio.DialPipeAccess(ctx, PipeName, pipeUserAccess)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	live, err := windows.GetSecurityInfo(windows.Handle(c.(interface{ Fd() uintptr }).Fd()), windows.SE_KERNEL_OBJECT,
		windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Skipf("reading the pipe's descriptor: %v (Wine); WINDOWS-VERIFY.md checks it", err)
	}
	checkIUMask(t, "the listening pipe", live)
}

func checkIUMask(t *testing.T, what string, sd *windows.SECURITY_DESCRIPTOR) {
	t.Helper()
	t.Logf("%s: %s", what, sd.String())
	dacl, _, err := sd.DACL()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	iu, err := windows.CreateWellKnownSid(windows.WinInteractiveSid)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			t.Fatal(err)
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		if !sid.Equals(iu) {
			continue
		}
		found = true
		if ace.Mask != pipeUserAccess || ace.Mask&fileCreatePipeInstance != 0 {
			t.Errorf("%s: interactive users get %#x, want %#x (no create-pipe-instance)", what, ace.Mask, pipeUserAccess)
		}
	}
	if !found {
		t.Errorf("%s: no entry for interactive users", what)
	}
}
