package ui

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// TestRemoteTabPositions prints where each tab of the remote session
// window sits (the centre of its button, in window pixels at scale 1) at
// the size ADHOC_REMOTE_TABS gives, e.g. 1000x640, so .ci/screenshots.sh
// can click every tab by name and shoot it, whichever tabs the window has
// by then, and where the Command tab's command line is. It fails if a tab
// button cannot be found. Skipped unless the variable is set.
func TestRemoteTabPositions(t *testing.T) {
	size := os.Getenv("ADHOC_REMOTE_TABS")
	if size == "" {
		t.Skip("ADHOC_REMOTE_TABS=WxH is set by .ci/screenshots.sh")
	}
	var w, h float32
	if _, err := fmt.Sscanf(size, "%fx%f", &w, &h); err != nil {
		t.Fatalf("ADHOC_REMOTE_TABS=%q: want WxH", size)
	}
	_, _, r, _ := remoteTestOpen(t)
	fyne.CurrentApp().Settings().SetTheme(theme.DefaultTheme()) // the real window's sizes, not the test theme's
	r.win.Resize(fyne.NewSize(w, h))
	tabs := findAll[*container.AppTabs](r.win.Content())
	if len(tabs) != 1 {
		t.Fatalf("%d tab containers in the remote window; want 1", len(tabs))
	}
	// The tab buttons are Fyne's own unexported widget: found by type name,
	// in the order of the items they show.
	var buttons []fyne.CanvasObject
	walk(tabs[0], func(o fyne.CanvasObject) {
		if reflect.TypeOf(o).String() == "*container.tabButton" {
			buttons = append(buttons, o)
		}
	})
	items := tabs[0].Items
	if len(buttons) != len(items) {
		t.Fatalf("%d tab buttons for %d tabs", len(buttons), len(items))
	}
	abs := fyne.CurrentApp().Driver().AbsolutePositionForObject
	slices.SortFunc(buttons, func(a, b fyne.CanvasObject) int { return int(abs(a).X - abs(b).X) })
	for i, b := range buttons {
		p := abs(b).Add(fyne.NewPos(b.Size().Width/2, b.Size().Height/2))
		fmt.Printf("TAB %d %d %s\n", int(p.X), int(p.Y), items[i].Text)
	}
	tabs[0].SelectIndex(slices.IndexFunc(items, func(it *container.TabItem) bool { return it.Text == "Command" }))
	e := r.command.entry
	p := abs(e).Add(fyne.NewPos(e.Size().Width/2, e.Size().Height/2))
	fmt.Printf("COMMANDLINE %d %d\n", int(p.X), int(p.Y))
}
