package support

import (
	"os/exec"
	"sync"
)

// A command's shell often starts children (a script, ping, a copy); Stop
// and the stream closing must end them too, not only the shell, or they
// run on as the account after the technician has moved on.

// TreeTracker is what a Logon offers when it ends a command's whole
// process tree itself (winsys: a job object). Track is called right after
// the process started; kill ends the process and every child it started.
// An error says the tree is not tracked (kill then ends the process only).
type TreeTracker interface {
	Track(cmd *exec.Cmd) (kill func() error, err error)
}

// startTree starts cmd so that the returned kill ends its whole tree: the
// Logon's own tracking if it has one, else the platform's (a process group
// on Unix). kill may be called more than once.
func (a *App) startTree(logon Logon, cmd *exec.Cmd) (kill func(), err error) {
	tracker, tracks := logon.(TreeTracker)
	if !tracks {
		inGroup(cmd)
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	end := func() error { return killGroup(cmd) }
	if tracks {
		var terr error
		if end, terr = tracker.Track(cmd); terr != nil {
			a.Log.Printf("process %d runs without its tree tracked; stopping it will not end its children: %v", cmd.Process.Pid, terr)
		}
	}
	var once sync.Once
	return func() { once.Do(func() { _ = end() }) }, nil
}
