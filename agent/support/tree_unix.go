//go:build !windows

package support

import (
	"os/exec"
	"syscall"
)

// inGroup makes cmd the leader of a new process group, which its children
// join, so one signal reaches them all.
func inGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// killGroup ends cmd's process group (the leader may have exited while
// its children live on).
func killGroup(cmd *exec.Cmd) error {
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		return cmd.Process.Kill()
	}
	return nil
}
