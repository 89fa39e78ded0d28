package winsys

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// The interactive users' mask on the pipe is read and write without
// create-pipe-instance (FILE_APPEND_DATA); the SDDL says exactly that.
func TestPipeSDDL(t *testing.T) {
	if pipeUserAccess&fileCreatePipeInstance != 0 {
		t.Fatalf("mask %#x includes create-pipe-instance", pipeUserAccess)
	}
	if pipeUserAccess != 0x12019b {
		t.Errorf("mask %#x, want 0x12019b", pipeUserAccess)
	}
	if !strings.Contains(pipeSDDL, "(A;;0x12019b;;;IU)") || strings.Contains(pipeSDDL, "GW;;;IU") || strings.Contains(pipeSDDL, "GA;;;IU") {
		t.Errorf("SDDL %s: want interactive users granted 0x12019b, no generic write or all", pipeSDDL)
	}
}

// scripted plays a pipe whose dials come out as given: "squatter" and
// "service" connect (to a server that is or is not the service), "none"
// finds no pipe. After the script, Pause reports ctx ended.
type scripted struct {
	script []string
	dials  int
	closed int
	pauses []time.Duration
}

type scriptedConn struct {
	net.Conn
	who string
	s   *scripted
}

func (c *scriptedConn) Close() error { c.s.closed++; return nil }

func (s *scripted) Dial(context.Context) (net.Conn, error) {
	who := s.script[s.dials]
	s.dials++
	if who == "none" {
		return nil, errors.New("open " + PipeName + ": The system cannot find the file specified.")
	}
	return &scriptedConn{who: who, s: s}, nil
}

func (s *scripted) CheckServer(c net.Conn) error {
	if c.(*scriptedConn).who != "service" {
		return errSquatter
	}
	return nil
}

func (s *scripted) Pause(_ context.Context, d time.Duration) error {
	s.pauses = append(s.pauses, d)
	if s.dials == len(s.script) {
		return context.DeadlineExceeded
	}
	return nil
}

// A squatter's connections are closed and the dial goes on until it
// reaches the service; with only a squatter there, the error says so.
func TestDialPastSquatter(t *testing.T) {
	s := &scripted{script: []string{"none", "squatter", "squatter", "service"}}
	c, err := dialService(context.Background(), s)
	if err != nil {
		t.Fatalf("dialService = %v, want the service reached past the squatter", err)
	}
	if c.(*scriptedConn).who != "service" || s.closed != 2 || s.dials != 4 {
		t.Errorf("reached %q after %d dials, %d closed; want the service, 4 dials, the 2 squatters closed", c.(*scriptedConn).who, s.dials, s.closed)
	}
	if len(s.pauses) != 3 || s.pauses[0] != pauseNoPipe || s.pauses[1] != pauseSquatter {
		t.Errorf("pauses %v", s.pauses)
	}

	s = &scripted{script: []string{"squatter", "none", "squatter"}}
	if _, err := dialService(context.Background(), s); !errors.Is(err, errSquatter) {
		t.Errorf("only a squatter: dialService = %v, want the squatter named", err)
	}
	if s.closed != 2 {
		t.Errorf("%d squatter connections closed, want 2", s.closed)
	}
	s = &scripted{script: []string{"none", "none"}}
	if _, err := dialService(context.Background(), s); err == nil || errors.Is(err, errSquatter) || !strings.Contains(err.Error(), "cannot find") {
		t.Errorf("no pipe: dialService = %v, want the dial's error", err)
	}
}
