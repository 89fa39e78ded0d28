package winsys

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// startScreenHelper starts "AdHocSupport.exe --screen" in the console
// session with the service's own SYSTEM token: a user's token could not open
// the Winlogon desktop (sign-in screen, UAC prompts).
func startScreenHelper(session uint32) (windows.Handle, error) {
	tok, err := systemTokenIn(session, windows.TokenPrimary)
	if err != nil {
		return 0, err
	}
	defer tok.Close()
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd, err := windows.UTF16PtrFromString(syscall.EscapeArg(exe) + " --screen")
	if err != nil {
		return 0, err
	}
	// Started on the interactive desktop; the helper switches its capture
	// thread to Winlogon itself when that is the input desktop.
	si := windows.StartupInfo{Cb: uint32(unsafe.Sizeof(windows.StartupInfo{})), Desktop: wptr(`WinSta0\Default`)}
	var pi windows.ProcessInformation
	if err := windows.CreateProcessAsUser(tok, wptr(exe), cmd, nil, nil, false, windows.CREATE_NO_WINDOW, nil, nil, &si, &pi); err != nil {
		return 0, fmt.Errorf("starting the screen helper in session %d: %w", session, err)
	}
	windows.CloseHandle(pi.Thread)
	return pi.Process, nil
}

// systemTokenIn returns a copy of the service's SYSTEM token (primary, to
// start a process, or impersonation, for the calling thread) moved to
// session; the service holds SeTcbPrivilege, which moving it needs.
func systemTokenIn(session uint32, typ uint32) (windows.Token, error) {
	var own windows.Token
	if err := windows.OpenProcessToken(windows.CurrentProcess(),
		windows.TOKEN_DUPLICATE|windows.TOKEN_QUERY|windows.TOKEN_ASSIGN_PRIMARY|windows.TOKEN_ADJUST_DEFAULT|windows.TOKEN_ADJUST_SESSIONID,
		&own); err != nil {
		return 0, err
	}
	defer own.Close()
	var tok windows.Token
	if err := windows.DuplicateTokenEx(own, windows.MAXIMUM_ALLOWED, nil, windows.SecurityImpersonation, typ, &tok); err != nil {
		return 0, fmt.Errorf("duplicating the service's token: %w", err)
	}
	if err := windows.SetTokenInformation(tok, windows.TokenSessionId, (*byte)(unsafe.Pointer(&session)), 4); err != nil {
		tok.Close()
		return 0, fmt.Errorf("moving the token to session %d: %w", session, err)
	}
	return tok, nil
}

// KeepScreenHelper keeps one screen helper running in the active console
// session until ctx ends: it starts one, and starts a new one when the
// console moves to another session (fast user switching, a Remote Desktop
// session taking the console back) or the helper exits. The console is
// polled every second: simpler than following session-change events, and a
// switch is noticed in about the time Windows takes to show it. It returns
// once the helper has exited (TerminateProcess only starts that), so the
// caller may then delete the program it runs.
func KeepScreenHelper(ctx context.Context, logf func(format string, args ...any)) {
	var proc windows.Handle
	var k keeper
	stopHelper := func() {
		if proc != 0 {
			_ = windows.TerminateProcess(proc, 0)
			if ev, err := windows.WaitForSingleObject(proc, 5000); err != nil || ev != windows.WAIT_OBJECT_0 {
				logf("the screen helper did not exit within 5 s of being stopped")
			}
			windows.CloseHandle(proc)
			proc = 0
		}
	}
	defer stopHelper()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		now, console := time.Now(), windows.WTSGetActiveConsoleSessionId()
		stop, start := k.step(now, console, proc != 0 && exitedProcess(proc))
		if stop {
			stopHelper()
			if k.quick == 3 {
				logf("the screen helper keeps exiting at once; it is restarted at most every 30 s")
			}
		}
		if start {
			if p, err := startScreenHelper(console); err != nil {
				if k.Failed(now) {
					logf("screen helper: %v", err)
				}
			} else {
				proc = p
				k.Started(now, console)
				logf("screen helper started in console session %d", console)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func exitedProcess(p windows.Handle) bool {
	ev, err := windows.WaitForSingleObject(p, 0)
	return err == nil && ev == windows.WAIT_OBJECT_0
}
