package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// attachConsole gives a subcommand the console it was typed in. The station
// is a GUI-subsystem program, so that its window opens without a console
// window beside it; Windows therefore starts it without a console, and
// without this `adhoc-station.exe sessions list` would print nothing.
// Handles the parent passed on (a pipe, `> out.json`) are kept.
func attachConsole() {
	out, _ := windows.GetStdHandle(windows.STD_OUTPUT_HANDLE)
	errh, _ := windows.GetStdHandle(windows.STD_ERROR_HANDLE)
	if usable(out) && usable(errh) {
		return
	}
	attach := windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")
	const attachParentProcess = ^uintptr(0) // ATTACH_PARENT_PROCESS, (DWORD)-1
	if ok, _, _ := attach.Call(attachParentProcess); ok == 0 {
		return // started from Explorer or a shortcut: there is no console to write to
	}
	if !usable(out) {
		if f, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err == nil {
			os.Stdout = f
		}
	}
	if !usable(errh) {
		if f, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err == nil {
			os.Stderr = f
		}
	}
	if in, _ := windows.GetStdHandle(windows.STD_INPUT_HANDLE); !usable(in) {
		if f, err := os.OpenFile("CONIN$", os.O_RDONLY, 0); err == nil {
			os.Stdin = f
		}
	}
}

func usable(h windows.Handle) bool { return h != 0 && h != windows.InvalidHandle }
