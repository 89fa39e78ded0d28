package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
)

// activityScreen is a placeholder until the UI engineer builds the page.
type activityScreen struct {
	st  *core.Station
	win fyne.Window
}

func newActivityScreen(st *core.Station, win fyne.Window) *activityScreen {
	return &activityScreen{st: st, win: win}
}

func (s *activityScreen) content() fyne.CanvasObject { return widget.NewLabel("Activity") }

func (s *activityScreen) onEvent(e core.Event) {}
