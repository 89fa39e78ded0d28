package winsys

import (
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"adhocstation/agent/support"
	"adhocstation/core/wire"
)

// activityDialog finds the activity window by its title.
func activityDialog() uintptr {
	h, _, _ := procFindWindowExW.Call(0, 0, 0, uintptr(unsafe.Pointer(wptr(activityTitle))))
	return h
}

func dlgText(hwnd uintptr, id int) string {
	buf := make([]uint16, 64<<10)
	procGetDlgItemTextW.Call(hwnd, uintptr(id), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	return windows.UTF16ToString(buf)
}

// TestActivityWindowFollowsTheList: the tray's updates fill the window
// (made hidden on the first one) as they come, oldest first, each line
// with its time; opening it shows it; Close only hides it, and the list
// goes on filling.
func TestActivityWindowFollowsTheList(t *testing.T) {
	tray := NewTray()
	at := time.Date(2026, 3, 9, 14, 3, 5, 0, time.Local)
	tray.ActivityUpdated(support.ActivityUpdate{Full: true, Entries: []wire.ActivityEntry{
		{Seq: 1, At: at, Kind: wire.ActivityConnected, Text: "Tess Tech connected to this PC"}}})
	var hwnd uintptr
	eventually(t, "the activity window with the first action", func() bool {
		hwnd = activityDialog()
		return hwnd != 0 && strings.Contains(dlgText(hwnd, idActivityText), "Mon 14:03:05  Tess Tech connected to this PC")
	})
	if v, _, _ := procIsWindowVisible.Call(hwnd); v != 0 {
		t.Fatal("the window showed itself: only the user opens it")
	}
	tray.ActivityUpdated(support.ActivityUpdate{Entries: []wire.ActivityEntry{
		{Seq: 2, At: at.Add(time.Minute), Kind: wire.ActivityCommand, Text: "Tess Tech ran a PowerShell command: ipconfig /all"}}})
	eventually(t, "the second action under the first", func() bool {
		text := dlgText(hwnd, idActivityText)
		i, j := strings.Index(text, "connected to this PC"), strings.Index(text, "Mon 14:04:05  Tess Tech ran a PowerShell command: ipconfig /all")
		return i >= 0 && j > i
	})
	tray.mu.Lock()
	text := activityText(&tray.activity.list, time.Local)
	tray.mu.Unlock()
	activityWin.update(text, true) // the menu's item
	eventually(t, "the window to show", func() bool {
		v, _, _ := procIsWindowVisible.Call(hwnd)
		return v != 0
	})
	procPostMessageW.Call(hwnd, wmCommand, idCancel, 0)
	eventually(t, "Close to hide the window", func() bool {
		v, _, _ := procIsWindowVisible.Call(hwnd)
		return v == 0
	})
	tray.ActivityUpdated(support.ActivityUpdate{Entries: []wire.ActivityEntry{
		{Seq: 3, At: at.Add(2 * time.Minute), Kind: wire.ActivityLeft, Text: "Tess Tech left (disconnected from this PC)"}}})
	eventually(t, "the hidden window to go on filling", func() bool {
		return strings.Contains(dlgText(hwnd, idActivityText), "Tess Tech left")
	})
}
