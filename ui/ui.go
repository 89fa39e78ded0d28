// Package ui draws the technician's window over core: one file per screen,
// one per reusable widget. It holds no SQL, SMTP or HTTP; it calls core and
// redraws on core's events.
package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"adhocstation/core"
)

// Options are the window's start-up choices.
type Options struct {
	Kiosk    bool   // full screen, larger type, settings behind KioskPIN
	KioskPIN string // the station PIN that unlocks settings in kiosk mode
}

// screen is what every page offers the window: its content, and a hook for
// core's events that the window calls on the Fyne goroutine.
type screen interface {
	content() fyne.CanvasObject
	onEvent(e core.Event)
}

// New builds the station's main window over st and starts delivering core's
// events to the screens. The window stops listening when it closes.
func New(a fyne.App, st *core.Station, opts Options) fyne.Window {
	w := a.NewWindow("Ad Hoc Support Station")
	computers := newComputersScreen(st, w)
	activity := newActivityScreen(st, w)
	settings := newSettingsScreen(st, w)
	screens := []screen{computers, activity, settings}
	tabs := container.NewAppTabs(
		container.NewTabItem("Computers", computers.content()),
		container.NewTabItem("Activity", activity.content()),
		container.NewTabItem("Settings", settings.content()),
	)
	w.SetContent(tabs)
	w.Resize(fyne.NewSize(1100, 760))

	ctx, cancel := context.WithCancel(context.Background())
	sub := st.Subscribe()
	go func() {
		for e := range sub.C {
			fyne.Do(func() {
				for _, s := range screens {
					s.onEvent(e)
				}
			})
		}
	}()
	w.SetOnClosed(func() { cancel(); sub.Close() })
	_ = ctx
	return w
}
