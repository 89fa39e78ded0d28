package winsys

import (
	"errors"

	"golang.org/x/sys/windows"
)

var procFreeConsole = windows.NewLazySystemDLL("kernel32.dll").NewProc("FreeConsole")

// HideConsole detaches from the console window Windows opens for this
// (console-subsystem) program when it is double-clicked, so the user sees
// only the dialogs and the tray; started from a command prompt it merely
// lets go of that prompt's window.
func HideConsole() { procFreeConsole.Call() }

// SingleInstance reports whether this is the only running copy of the app
// on the PC; a second copy (the user double-clicks the download again) must
// not start a second heartbeat and tray. The mutex lives until the process ends.
func SingleInstance() bool {
	name, _ := windows.UTF16PtrFromString(`Global\AdHocSupportSession`)
	_, err := windows.CreateMutex(nil, false, name)
	return !errors.Is(err, windows.ERROR_ALREADY_EXISTS)
}
