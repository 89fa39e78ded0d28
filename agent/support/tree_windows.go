package support

import "os/exec"

// inGroup does nothing: on Windows the Logon tracks the tree (TreeTracker).
func inGroup(*exec.Cmd) {}

// killGroup ends the process only, for a Logon without a TreeTracker.
func killGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }
