package winsys

import (
	"errors"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	kernel32          = windows.NewLazySystemDLL("kernel32.dll")
	procAttachConsole = kernel32.NewProc("AttachConsole")
)

// UseParentConsole attaches this GUI-subsystem program (no console window
// flashes at a double-click) to the console it was started from, for
// --console: standard input and output then go to that console.
func UseParentConsole() error {
	const attachParentProcess = ^uintptr(0) // ATTACH_PARENT_PROCESS (-1)
	r, e, err := call(procAttachConsole, attachParentProcess)
	if err != nil {
		return err
	}
	if r == 0 {
		if errors.Is(e, windows.ERROR_ACCESS_DENIED) {
			return nil // already has a console (a console-subsystem build)
		}
		return e
	}
	in, err := os.OpenFile("CONIN$", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	out, err := os.OpenFile("CONOUT$", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	os.Stdin, os.Stdout, os.Stderr = in, out, out
	return nil
}

// mutexSDDL: only SYSTEM and Administrators may open the mutex.
const mutexSDDL = "O:BAD:P(A;;GA;;;SY)(A;;GA;;;BA)"

// SingleInstance reports whether no other copy holds the named mutex in
// the Global namespace. A mutex someone else created first (a squatter: its
// owner is not Administrators or SYSTEM, or it denies us) does not count,
// so it cannot keep the app from running; the service's pipe is the real
// guard. The mutex lives until the process ends.
func SingleInstance(name string) bool {
	sd, err := windows.SecurityDescriptorFromString(mutexSDDL)
	if err != nil {
		return true
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	h, err := windows.CreateMutex(sa, false, wptr(`Global\`+name))
	switch {
	case err == nil:
		return true
	case errors.Is(err, windows.ERROR_ALREADY_EXISTS):
		have, serr := windows.GetSecurityInfo(h, windows.SE_KERNEL_OBJECT, windows.OWNER_SECURITY_INFORMATION)
		if serr != nil {
			return true
		}
		owner, _, oerr := have.Owner()
		return oerr != nil || !(owner.IsWellKnown(windows.WinBuiltinAdministratorsSid) || owner.IsWellKnown(windows.WinLocalSystemSid))
	}
	return true // access denied: squatted, ignore
}

// OneTrayPerSession reports whether this is the only tray helper in this
// Windows session (logon and unlock notifications may both start one).
func OneTrayPerSession() bool {
	_, err := windows.CreateMutex(nil, false, wptr(`Local\AdHocSupportTray`))
	return !errors.Is(err, windows.ERROR_ALREADY_EXISTS)
}
