package winsys

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"adhocstation/agent/screen"
)

var (
	sasDLL      = windows.NewLazySystemDLL("sas.dll")
	procSendSAS = sasDLL.NewProc("SendSAS")
)

// sasPolicy is where Windows looks before it lets a service send
// Ctrl+Alt+Del.
const sasPolicy = `SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System`

// sasProblem says why Ctrl+Alt+Del cannot be sent, or "" when it can.
// SoftwareSASGeneration: 1 services, 2 Ease of Access programs, 3 both.
// The app does not set it itself: it is a security policy the PC's
// administrator decides.
func sasProblem() string {
	const fix = " An administrator can allow it in Group Policy (Computer Configuration > Administrative Templates > " +
		"Windows Components > Windows Logon Options > Disable or enable software Secure Attention Sequence: Enabled, " +
		"Services) or with: reg add HKLM\\" + sasPolicy + " /v SoftwareSASGeneration /t REG_DWORD /d 1 /f"
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, sasPolicy, registry.QUERY_VALUE)
	if err != nil {
		return "Windows does not let programs send Ctrl+Alt+Del on this PC: the policy SoftwareSASGeneration is not set." + fix
	}
	defer k.Close()
	v, _, err := k.GetIntegerValue("SoftwareSASGeneration")
	switch {
	case err != nil:
		return "Windows does not let programs send Ctrl+Alt+Del on this PC: the policy SoftwareSASGeneration is not set." + fix
	case v != 1 && v != 3:
		return fmt.Sprintf("Windows does not let services send Ctrl+Alt+Del on this PC: the policy SoftwareSASGeneration is %d (it must be 1 or 3).", v) + fix
	}
	if exported(procSendSAS) != nil {
		return "This edition of Windows has no SendSAS in sas.dll, so Ctrl+Alt+Del cannot be sent."
	}
	return ""
}

// SendSAS sends Ctrl+Alt+Del from the service's process, which is what
// Windows documents SendSAS for (a service, or a program with uiAccess);
// the service gives it to its ScreenRelay, which acts on the station's
// request itself instead of passing it to the screen helper. A service's
// SendSAS goes to the session of the token it impersonates, so the thread
// impersonates SYSTEM moved to the console session, where the screen
// helper shows the technician the screen.
func SendSAS() error {
	if p := sasProblem(); p != "" {
		return errors.Join(screen.ErrSASUnavailable, errors.New(p))
	}
	console := windows.WTSGetActiveConsoleSessionId()
	if console == 0xFFFFFFFF {
		return errors.New("nobody's session is at the PC's console (it is switching users), so Ctrl+Alt+Del has nowhere to go; try again in a moment")
	}
	tok, err := systemTokenIn(console, windows.TokenImpersonation)
	if err != nil {
		return fmt.Errorf("ctrl+Alt+Del could not be sent: %w", err)
	}
	defer tok.Close()
	// The impersonation belongs to this OS thread only; a thread that
	// cannot drop it stays locked and ends with its goroutine.
	runtime.LockOSThread()
	defer func() {
		if windows.RevertToSelf() == nil {
			runtime.UnlockOSThread()
		}
	}()
	if err := windows.SetThreadToken(nil, tok); err != nil {
		return fmt.Errorf("ctrl+Alt+Del could not be sent: %w", err)
	}
	// SendSAS returns nothing; it fails silently when the caller is not a
	// service or the policy is missing, the latter checked above.
	_, _, err = call(procSendSAS, 0) // AsUser = FALSE: as a service
	return err
}

// SendSAS on the helper's Desktop: the relay never passes Ctrl+Alt+Del
// to the helper, so this only runs if a stream is served in-process; it
// tries as the service would.
func (d *Desktop) SendSAS() error { return SendSAS() }
