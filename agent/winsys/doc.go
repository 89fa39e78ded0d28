// Package winsys is the real Windows side of the Support Session app: the
// support.System calls (accounts, registry, facts, files) and its UI (Win32
// dialogs and the tray). Everything is in *_windows.go files; on other
// systems the package is empty and the app refuses to run.
//
// Why Win32 through golang.org/x/sys/windows rather than Fyne: the dialogs
// the app needs (a consent question, one text field, a few notices) are a
// page of Win32 code, need no cgo or mingw-w64 cross compiler, and keep the
// download a few MB instead of a GUI toolkit's 20+. Every DLL is loaded with
// windows.NewLazySystemDLL, i.e. from System32 only, because the app runs
// from a Downloads folder where a planted DLL must never be picked up.
package winsys
