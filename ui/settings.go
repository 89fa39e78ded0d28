package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
)

// settingsScreen is a placeholder until the UI engineer builds the page.
type settingsScreen struct {
	st  *core.Station
	win fyne.Window
}

func newSettingsScreen(st *core.Station, win fyne.Window) *settingsScreen {
	return &settingsScreen{st: st, win: win}
}

func (s *settingsScreen) content() fyne.CanvasObject { return widget.NewLabel("Settings") }

func (s *settingsScreen) onEvent(e core.Event) {}
