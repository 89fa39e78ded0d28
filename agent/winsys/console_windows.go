package winsys

import "golang.org/x/sys/windows"

var procFreeConsole = windows.NewLazySystemDLL("kernel32.dll").NewProc("FreeConsole")

// HideConsole detaches from the console window Windows opens for this
// (console-subsystem) program when it is double-clicked, so the user sees
// only the dialogs and the tray; started from a command prompt it merely
// lets go of that prompt's window.
func HideConsole() { procFreeConsole.Call() }
