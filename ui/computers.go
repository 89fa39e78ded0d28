package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
)

// computersScreen is a placeholder until the UI engineer builds the page.
type computersScreen struct {
	st  *core.Station
	win fyne.Window
}

func newComputersScreen(st *core.Station, win fyne.Window) *computersScreen {
	return &computersScreen{st: st, win: win}
}

func (s *computersScreen) content() fyne.CanvasObject { return widget.NewLabel("Computers") }

func (s *computersScreen) onEvent(e core.Event) {}
