package winsys

import (
	"strings"
	"time"

	"adhocstation/agent/support"
)

// The tray's activity window ("What your technician is doing",
// activity_windows.go) is a modeless dialog showing the list in a
// read-only edit control; its template, its text and the menu's line are
// built here, without Windows calls, so they are tested on Linux too.

// Control IDs of the activity window.
const (
	idActivityText = 300
	activityTitle  = support.ActivityTitle + " — Ad Hoc Support Session"
	// maxMenuLine bounds the newest action shown in the tray's menu.
	maxMenuLine = 70
)

// activityTemplate is the window: the list, read-only, and Close.
func activityTemplate() []uint16 {
	items := []dlgItem{
		{wsChild | wsVisible | wsBorder | wsVScroll | wsTabStop | esMultiline | esReadOnly | esAutoVScroll, 7, 7, 356, 190, idActivityText, 0x81, ""},
		{wsChild | wsVisible | wsTabStop | bsDefPushButton, 310, 203, 53, 14, idCancel, 0x80, "Close"},
	}
	return dialogTemplate(wsPopup|wsCaption|wsSysMenu|wsMinimizeBox|dsCenter, wsExAppWindow, activityTitle, 370, 224, items)
}

// activityText is the list as the edit control shows it (CR LF line
// breaks), with a line saying what it is.
func activityText(l *support.ActivityList, loc *time.Location) string {
	lines := append([]string{"Everything your technician does on this PC, as it happens (times on this PC's clock):", ""},
		l.Lines(loc)...)
	return strings.Join(lines, "\r\n") + "\r\n"
}

// activityMenuLine is the tray menu's line for the newest action, cut to
// fit a menu; "" when there is none.
func activityMenuLine(l *support.ActivityList, loc *time.Location) string {
	s := l.Latest(loc)
	if r := []rune(s); len(r) > maxMenuLine {
		s = string(r[:maxMenuLine-1]) + "…"
	}
	return s
}
