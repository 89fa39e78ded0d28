package ui

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// TestRemoteTabPositions prints where each tab of the remote session
// window sits (the centre of its button, in window pixels at scale 1) at
// the size ADHOC_REMOTE_TABS gives, e.g. 1000x640, so .ci/screenshots.sh
// can click every tab by name and shoot it, whichever tabs the window has
// by then, and where each tab's first text field is. It fails if a tab
// button cannot be found. ACTION lines give each tab's first emphasised
// button. Skipped unless the variable is set.
func TestRemoteTabPositions(t *testing.T) {
	size := os.Getenv("ADHOC_REMOTE_TABS")
	if size == "" {
		t.Skip("ADHOC_REMOTE_TABS=WxH is set by .ci/screenshots.sh")
	}
	var w, h float32
	if _, err := fmt.Sscanf(size, "%fx%f", &w, &h); err != nil {
		t.Fatalf("ADHOC_REMOTE_TABS=%q: want WxH", size)
	}
	_, _, r, watch := remoteTestOpen(t)
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
	// Each tab's first text field (the command line, the path bar, the
	// chat's entry), for the script to type into. What a tab starts when
	// first shown (the Files tab lists a drive) is held until the walk is
	// over: the test driver would apply it on its own goroutine, racing
	// this one's layout.
	gate := make(chan struct{})
	watch.b.hold = gate
	defer func() {
		watch.b.hold = nil
		close(gate)
		if slices.ContainsFunc(items, func(it *container.TabItem) bool { return it.Text == "Files" }) {
			watch.wait(t, jobFilesList)
		}
	}()
	for i, it := range items {
		tabs[0].SelectIndex(i)
		var field fyne.CanvasObject
		walk(it.Content, func(o fyne.CanvasObject) {
			if _, ok := o.(fyne.Focusable); ok && field == nil && strings.Contains(reflect.TypeOf(o).String(), "Entry") {
				field = o
			}
		})
		if field != nil {
			p := abs(field).Add(fyne.NewPos(field.Size().Width/2, field.Size().Height/2))
			fmt.Printf("ENTRY %d %d %s\n", int(p.X), int(p.Y), it.Text)
		}
		// And its first emphasised button (the Screen tab's Start viewing).
		var action *widget.Button
		for _, b := range findAll[*widget.Button](it.Content) {
			if b.Importance == widget.HighImportance && action == nil {
				action = b
			}
		}
		if action != nil {
			p := abs(action).Add(fyne.NewPos(action.Size().Width/2, action.Size().Height/2))
			fmt.Printf("ACTION %d %d %s\n", int(p.X), int(p.Y), it.Text)
		}
	}
}
