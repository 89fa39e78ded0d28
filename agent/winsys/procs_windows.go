package winsys

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/windows"
)

// call is p.Call once p.Find has found the export. Where the export or its
// DLL is missing (an older or cut-down Windows edition, Wine) LazyProc.Call
// panics, and in the service a panic ends the session loop with the
// account still there; call returns an error instead. lastErr is the
// thread's last error after the call, as LazyProc.Call reports it.
func call(p *windows.LazyProc, args ...uintptr) (r uintptr, lastErr syscall.Errno, err error) {
	if err := exported(p); err != nil {
		return 0, 0, err
	}
	r, _, e := p.Call(args...)
	lastErr, _ = e.(syscall.Errno)
	return r, lastErr, nil
}

// exported returns an error naming the first of procs that this Windows
// does not have: code that makes many calls checks them all once, before
// its first.
func exported(procs ...*windows.LazyProc) error {
	for _, p := range procs {
		if err := p.Find(); err != nil {
			return fmt.Errorf("this version of Windows does not have %s, which the app needs here: %w", p.Name, err)
		}
	}
	return nil
}
