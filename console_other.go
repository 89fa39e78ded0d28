//go:build !windows

package main

// attachConsole is needed only on Windows, where the station is a
// GUI-subsystem program (console_windows.go).
func attachConsole() {}
