// Package ui draws the technician's window over core. STUB by the lead so the
// station builds; the UI engineer replaces it with one file per screen.
package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
)

// Options are the window's start-up choices.
type Options struct {
	Kiosk    bool   // full screen, larger type, settings behind KioskPIN
	KioskPIN string // the station PIN that unlocks settings in kiosk mode
}

// New builds the station's main window.
func New(a fyne.App, st *core.Station, opts Options) fyne.Window {
	w := a.NewWindow("Ad Hoc Support Station")
	w.SetContent(widget.NewLabel("Ad Hoc Support Station"))
	w.Resize(fyne.NewSize(1000, 700))
	return w
}
