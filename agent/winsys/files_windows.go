package winsys

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/windows"
)

var procImpersonateLoggedOnUser = windows.NewLazySystemDLL("advapi32.dll").NewProc("ImpersonateLoggedOnUser")

// AsAccount runs fn with this OS thread impersonating the signed-in
// account (ImpersonateLoggedOnUser), so the Files tab opens, creates,
// lists and renames with that account's rights rather than SYSTEM's. The
// goroutine stays on the thread while fn runs; a handle opened in fn keeps
// the access it was granted after RevertToSelf.
func (l *logon) AsAccount(fn func() error) error {
	runtime.LockOSThread()
	if r, e, err := call(procImpersonateLoggedOnUser, uintptr(l.token)); err != nil || r == 0 {
		runtime.UnlockOSThread()
		if err == nil {
			err = e
		}
		return fmt.Errorf("the PC could not act as the support account (ImpersonateLoggedOnUser: %w)", err)
	}
	defer func() {
		// A thread that could not stop impersonating is not handed back:
		// a locked thread ends with its goroutine.
		if windows.RevertToSelf() == nil {
			runtime.UnlockOSThread()
		}
	}()
	return fn()
}
