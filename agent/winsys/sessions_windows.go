package winsys

import (
	"errors"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
)

var procWTSLogoffSession = wtsapi32.NewProc("WTSLogoffSession")

// SignOut signs out every Windows session (console or Remote Desktop) of
// this PC's local account name and waits for each to end, so that the
// technician is really disconnected and the profile can unload.
func (*System) SignOut(name string) (int, error) {
	computer, err := windows.ComputerName()
	if err != nil {
		return 0, err
	}
	var sessions *windows.WTS_SESSION_INFO
	var count uint32
	if err := windows.WTSEnumerateSessions(0, 0, 1, &sessions, &count); err != nil {
		return 0, err
	}
	defer windows.WTSFreeMemory(uintptr(unsafe.Pointer(sessions)))
	var errs []error
	n := 0
	for _, s := range unsafe.Slice(sessions, count) {
		user, domain := wtsString(s.SessionID, 5 /* WTSUserName */), wtsString(s.SessionID, 7 /* WTSDomainName */)
		if !strings.EqualFold(user, name) || !strings.EqualFold(domain, computer) {
			continue
		}
		n++
		if r, e, err := call(procWTSLogoffSession, 0, uintptr(s.SessionID), 1 /* wait */); err != nil {
			errs = append(errs, err)
		} else if r == 0 {
			errs = append(errs, e)
		}
	}
	return n, errors.Join(errs...)
}
