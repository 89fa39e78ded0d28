package winsys

import (
	"strings"
	"testing"
	"time"

	"adhocstation/agent/support"
	"adhocstation/core/wire"
)

func TestActivityTemplateLayout(t *testing.T) {
	ids := walkTemplate(t, activityTemplate(), 2)
	if ids[idCancel] != "Close" {
		t.Errorf("buttons %v", ids)
	}
	if _, ok := ids[idActivityText]; !ok {
		t.Error("no list")
	}
}

// TestActivityText: the window lists every action with its time, oldest
// first, with CR LF breaks; the menu's line is the newest, cut to fit.
func TestActivityText(t *testing.T) {
	at := time.Date(2026, 3, 9, 14, 3, 5, 0, time.UTC)
	var l support.ActivityList
	if got := activityMenuLine(&l, time.UTC); got != "" {
		t.Errorf("an empty list's menu line is %q", got)
	}
	l.Apply(support.ActivityUpdate{Full: true, Earlier: 2, Entries: []wire.ActivityEntry{
		{Seq: 3, At: at, Kind: wire.ActivityConnected, Text: "Ana Tech connected to this PC"},
		{Seq: 4, At: at.Add(time.Minute), Kind: wire.ActivityCommand, Text: "Ana Tech ran a PowerShell command: " + strings.Repeat("Get-ChildItem ", 10)},
	}})
	text := activityText(&l, time.UTC)
	for _, want := range []string{"\r\n2 earlier actions not shown\r\n", "\r\nMon 14:03:05  Ana Tech connected to this PC\r\n", "\r\nMon 14:04:05  Ana Tech ran a PowerShell command: Get-ChildItem"} {
		if !strings.Contains(text, want) {
			t.Errorf("the window's text %q lacks %q", text, want)
		}
	}
	line := activityMenuLine(&l, time.UTC)
	if r := []rune(line); len(r) != maxMenuLine || !strings.HasPrefix(line, "14:04 Ana Tech ran") || !strings.HasSuffix(line, "…") {
		t.Errorf("the menu line is %q (%d characters)", line, len(r))
	}
}
