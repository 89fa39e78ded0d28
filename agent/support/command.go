package support

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net"
	"os/exec"
	"sync"
	"time"

	"adhocstation/core/wire"
)

// Commands of a remote session: each runs on its own stream, attached to
// the signed-in stream by the key its sign-in answered with, as the account
// that signed in. Output goes to the station as it comes; a stop line or
// the stream closing kills the process.

// waitAfterKill bounds waiting for output pipes a killed command's
// children still hold open.
const waitAfterKill = 2 * time.Second

func newKey() string { return rand.Text() }

// serveCommand runs the command of a stream attached to a remote session
// (serveAttached).
func (a *App) serveCommand(conn net.Conn, r *bufio.Reader, logon Logon, c wire.Command, who string) {
	enc := &frames{enc: json.NewEncoder(conn)}
	_ = conn.SetDeadline(time.Time{})
	if enc.send(wire.SignInResult{OK: true}) != nil {
		return
	}
	code, sentence := a.runCommand(r, logon, c, enc, who)
	_ = enc.send(wire.CommandFrame{Done: true, Exit: code, Error: sentence})
}

// runCommand starts the command, streams its output and returns its exit
// code, or a sentence when it could not start or was stopped. The line is
// not logged: it may hold secrets the technician typed.
func (a *App) runCommand(r *bufio.Reader, logon Logon, c wire.Command, out *frames, who string) (int, string) {
	cmd, err := logon.Command(c.Shell, c.Line)
	if err != nil {
		return 0, "The command could not start on the PC: " + err.Error() + "."
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = waitAfterKill
	kill, err := a.startTree(logon, cmd)
	if err != nil {
		a.Log.Printf("a %s command could not start: %v", c.Shell, err)
		return 0, "The command could not start on the PC: " + err.Error() + ". Check the shell and try again."
	}
	a.Log.Printf("a technician started a %s command (process %d)", c.Shell, cmd.Process.Pid)
	a.note(wire.ActivityCommand, noteCommand(who, c.Shell, c.Line))
	stopped := make(chan struct{})
	go func() {
		// Any line (a StopCommand) or the stream closing ends the command
		// and every process it started.
		_, _ = r.ReadSlice('\n')
		close(stopped)
		kill()
	}()
	err = cmd.Wait()
	kill() // what the command left running in the background ends with it
	select {
	case <-stopped:
		a.Log.Printf("a technician stopped process %d", cmd.Process.Pid)
		return 0, "The command was stopped: its process on the PC was ended."
	default:
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), ""
	case err != nil:
		return 0, "The command's output could not be read to the end: " + err.Error() + "."
	}
	return 0, ""
}

// frames sends JSON lines on a stream; the process's output arrives from
// exec's copying goroutine while the end frame comes from another.
type frames struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (f *frames) send(v any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.enc.Encode(v)
}

// Write sends a piece of output as soon as the process writes it.
func (f *frames) Write(p []byte) (int, error) {
	if err := f.send(wire.CommandFrame{Output: string(p)}); err != nil {
		return 0, err
	}
	return len(p), nil
}
