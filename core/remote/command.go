package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"adhocstation/core/refusal"
	"adhocstation/core/wire"
)

// Commands in a remote session: each on its own stream, joined to the
// signed-in one by its key, run by the PC as the hidden account.

// stopWait bounds waiting for the PC to confirm a stopped command.
const stopWait = 5 * time.Second

// ErrCommandStopped is what Run returns when its context ended the
// command: the PC killed the process.
var ErrCommandStopped = refusal.New("command_stopped", "The command was stopped: its process on the PC was ended.")

// ErrCommandLineTooLong ends a command whose PC sent a line over
// wire.MaxCommandLine: the app never does, so the PC is not ours to follow.
var ErrCommandLineTooLong = refusal.New("command_line_too_long", "The PC sent more output in one piece than the protocol allows, so the station stopped reading it and ended the command. Run it again; if this repeats, reinstall the Support Session app on the PC.")

// CommandExitError is a command that ended with a non-zero exit code.
type CommandExitError struct{ Code int }

func (e *CommandExitError) Error() string {
	return fmt.Sprintf("The command ended with exit code %d.", e.Code)
}

// Run runs line in shell (wire.ShellPowerShell or wire.ShellCmd) on the PC
// and calls output with each piece of its output as it comes, on Run's
// goroutine. Cancelling ctx stops the command (the PC kills it) and Run
// returns ErrCommandStopped once the PC confirms. Other results:
// *CommandExitError, ErrRemoteGone, or the PC's sentence (code
// "pc_refused") when the command could not start.
func (r *RemoteSession) Run(ctx context.Context, shell, line string, output func([]byte)) (err error) {
	rec, id := r.recorder(), commandIDs.Add(1)
	rec.Command(id, shell, line)
	defer func() { rec.CommandEnd(id, err) }()
	recorded := output
	output = func(b []byte) { rec.Output(id, b); recorded(b) }
	conn, in, _, err := r.attach(ctx, wire.SignIn{Command: &wire.Command{Shell: shell, Line: line}}, 64<<10)
	if err != nil {
		return ErrRemoteGone
	}
	defer r.closeStream(conn)
	// Cancelling asks the PC to stop, and bounds waiting for its answer.
	// The deadlines come first: a PC that does not read must not hold
	// the stop line's write, nor Run waiting for an answer.
	stop := context.AfterFunc(ctx, func() {
		_ = conn.SetDeadline(time.Now().Add(stopWait))
		b, _ := json.Marshal(wire.StopCommand{Stop: true})
		_, _ = conn.Write(append(b, '\n'))
	})
	defer stop()
	for {
		line, err := wire.ReadLine(in, wire.MaxCommandLine)
		if errors.Is(err, wire.ErrLineTooLong) {
			return ErrCommandLineTooLong
		}
		if err != nil {
			if ctx.Err() != nil {
				return ErrCommandStopped
			}
			return ErrRemoteGone
		}
		var f wire.CommandFrame
		if err := json.Unmarshal(line, &f); err != nil {
			return ErrRemoteGone
		}
		if f.Output != "" {
			output([]byte(f.Output))
		}
		if !f.Done {
			continue
		}
		switch {
		case f.Error != "" && ctx.Err() != nil:
			return ErrCommandStopped
		case f.Error != "":
			return &refusal.Error{Code: "pc_refused", Message: wire.CleanShown(f.Error)}
		case f.Exit != 0:
			return &CommandExitError{Code: f.Exit}
		}
		return nil
	}
}
