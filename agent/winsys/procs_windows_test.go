package winsys

import (
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// An export missing from a real DLL is an error from call, not a panic
// (LazyProc.Call panics), and one that exists is called.
func TestCallMissingExport(t *testing.T) {
	missing := windows.NewLazySystemDLL("kernel32.dll").NewProc("AdHocNoSuchExport")
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("call panicked: %v", p)
		}
	}()
	r, _, err := call(missing, 1, 2)
	if err == nil || r != 0 || !strings.Contains(err.Error(), "AdHocNoSuchExport") {
		t.Errorf("call of a missing export = %d, %v; want an error naming it", r, err)
	}
	if err := exported(procGetTickCount64, missing); err == nil {
		t.Error("exported found a missing export")
	}
	noDLL := windows.NewLazySystemDLL("adhocnosuch.dll").NewProc("Anything")
	if _, _, err := call(noDLL); err == nil {
		t.Error("call of an export of a missing DLL: no error")
	}
	if ms, _, err := call(procGetTickCount64); err != nil || ms == 0 {
		t.Errorf("GetTickCount64 through call = %d, %v", ms, err)
	}
	if err := exported(screenProcs...); err != nil {
		t.Logf("this Windows lacks a screen export: %v", err) // the desktop tests then fail too
	}
}
