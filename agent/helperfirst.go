package main

import "adhocstation/agent/support"

// helperFirst is the service's System: its Uninstall stops the screen
// helper first. The helper runs the installed program with the service's
// token; left running, it would outlive the session (still serving the
// console) and hold the file the uninstall deletes. Every uninstall — the
// session's cleanup, a refused or declined start, a retry — goes through
// it, because they all call System.Uninstall.
type helperFirst struct {
	support.System
	// stopHelper stops the screen helper and returns once it has exited;
	// it may be called more than once.
	stopHelper func()
}

func (s helperFirst) Uninstall() error {
	s.stopHelper()
	return s.System.Uninstall()
}
