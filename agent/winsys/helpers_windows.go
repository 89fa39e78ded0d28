package winsys

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// StartTray starts the tray helper in Windows session id with the token of
// the user signed in there (never SYSTEM's): WTSQueryUserToken, that user's
// environment, CreateProcessAsUser on the interactive desktop. The program
// is the installed copy this service runs from (admin-only folder).
func StartTray(session uint32) error {
	var tok windows.Token
	if err := windows.WTSQueryUserToken(session, &tok); err != nil {
		return fmt.Errorf("no user token in session %d: %w", session, err)
	}
	defer tok.Close()
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var env *uint16
	if err := windows.CreateEnvironmentBlock(&env, tok, false); err != nil {
		return err
	}
	defer windows.DestroyEnvironmentBlock(env)
	cmd, err := windows.UTF16PtrFromString(syscall.EscapeArg(exe) + " --tray")
	if err != nil {
		return err
	}
	desktop, _ := windows.UTF16PtrFromString(`winsta0\default`)
	si := windows.StartupInfo{Cb: uint32(unsafe.Sizeof(windows.StartupInfo{})), Desktop: desktop}
	var pi windows.ProcessInformation
	if err := windows.CreateProcessAsUser(tok, wptr(exe), cmd, nil, nil, false,
		windows.CREATE_UNICODE_ENVIRONMENT|windows.CREATE_NO_WINDOW, env, nil, &si, &pi); err != nil {
		return fmt.Errorf("starting the tray in session %d: %w", session, err)
	}
	windows.CloseHandle(pi.Thread)
	windows.CloseHandle(pi.Process)
	return nil
}

// ActiveSessions lists the Windows sessions someone is signed in to.
func ActiveSessions() ([]uint32, error) {
	var sessions *windows.WTS_SESSION_INFO
	var count uint32
	if err := windows.WTSEnumerateSessions(0, 0, 1, &sessions, &count); err != nil {
		return nil, err
	}
	defer windows.WTSFreeMemory(uintptr(unsafe.Pointer(sessions)))
	var ids []uint32
	for _, s := range unsafe.Slice(sessions, count) {
		if s.State == windows.WTSActive && s.SessionID != 0 {
			ids = append(ids, s.SessionID)
		}
	}
	return ids, nil
}
