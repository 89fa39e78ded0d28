package winsys

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// PipeName is the service's named pipe.
const PipeName = `\\.\pipe\AdHocSupportSession`

// Access rights of a named pipe (winnt.h), here rather than from
// golang.org/x/sys/windows so the mask is tested on Linux.
const (
	fileGenericRead  = 0x120089 // READ_CONTROL | SYNCHRONIZE | FILE_READ_DATA | FILE_READ_EA | FILE_READ_ATTRIBUTES
	fileGenericWrite = 0x120116 // READ_CONTROL | SYNCHRONIZE | FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA | FILE_WRITE_ATTRIBUTES
	// fileCreatePipeInstance is FILE_APPEND_DATA's meaning on a pipe: who
	// has it may create server instances of the pipe's name.
	fileCreatePipeInstance = 0x4
)

// pipeUserAccess is what interactive users get on the service's pipe, and
// what every client asks for: read and write, but not create-pipe-instance
// (which GENERIC_WRITE and FILE_GENERIC_WRITE include), so a user's program
// cannot add its own server instances to the service's pipe.
const pipeUserAccess = (fileGenericRead | fileGenericWrite) &^ fileCreatePipeInstance

// pipeSDDL admits SYSTEM, Administrators and interactive users (IU: people
// signed in at the PC or over Remote Desktop, never network logons or
// services); the service still checks each caller's token (PipeCaller).
// The IU mask is pipeUserAccess written out (TestPipeSDDL checks it).
const pipeSDDL = "O:SYD:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;0x12019b;;;IU)"

// pipeEnds is what dialService needs from the pipe: one dial, the check
// that the server is the service, and a pause before the next try. On
// Windows it is the real pipe (DialPipe); tests script it.
type pipeEnds interface {
	// Dial connects once (go-winio itself waits while all instances are
	// busy); an error means there is no pipe yet or ctx ended.
	Dial(ctx context.Context) (net.Conn, error)
	// CheckServer returns errSquatter (wrapped) when the connection's
	// server is not the service.
	CheckServer(c net.Conn) error
	// Pause waits d, or returns ctx's error when ctx ends first.
	Pause(ctx context.Context, d time.Duration) error
}

// errSquatter: the pipe's server is not the service.
var errSquatter = errors.New("the pipe " + PipeName + " is not the Support Session service's (its server does not run as SYSTEM)")

// Pauses between dials: while the pipe does not exist (the service is
// starting), and after reaching a squatter (a user's program holding an
// instance of the name) so the next dial may reach one of the service's
// instances.
const (
	pauseNoPipe   = 500 * time.Millisecond
	pauseSquatter = 100 * time.Millisecond
)

// dialService dials until it reaches the service or ctx ends. A squatter's
// connection is closed before anything is read or written and the dial is
// tried again: giving up would let any user's program stop setup, the
// trays and the screen helper.
func dialService(ctx context.Context, p pipeEnds) (net.Conn, error) {
	var last, squatted error
	for {
		c, err := p.Dial(ctx)
		pause := pauseNoPipe
		if err == nil {
			if err = p.CheckServer(c); err == nil {
				return c, nil
			}
			c.Close()
			squatted, pause = err, pauseSquatter
		}
		last = err
		if p.Pause(ctx, pause) != nil {
			if squatted != nil {
				last = squatted // say why, not only that the time ran out
			}
			return nil, fmt.Errorf("the Support Session service is not answering: %w", last)
		}
	}
}
