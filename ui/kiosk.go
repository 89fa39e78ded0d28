package ui

import (
	"crypto/subtle"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// kioskLock keeps the Settings page and the window's close button behind
// the station PIN on a shared support station.
type kioskLock struct {
	pin string
	win fyne.Window
	now func() time.Time

	settings fyne.CanvasObject
	page     *fyne.Container
	gate     fyne.CanvasObject
	pinEntry *widget.Entry
	pinErr   *widget.Label

	close func() // closes the station's window once the PIN is right

	wrong       int       // wrong PINs in a row
	lockedUntil time.Time // after too many wrong PINs
}

const (
	// kioskMaxWrong wrong PINs in a row pause the PIN prompt for kioskPause:
	// a short PIN must not be guessable by trying them all at the station.
	kioskMaxWrong = 5
	kioskPause    = time.Minute
	noPINText     = "Settings are locked in kiosk mode, and no station PIN is set. Quit the station and start " +
		"it again with the environment variable ADHOC_STATION_PIN set to a PIN of your choice, " +
		"for example: ADHOC_STATION_PIN=4821 adhoc-station --kiosk"
)

func newKioskLock(pin string, win fyne.Window, settings fyne.CanvasObject, now func() time.Time) *kioskLock {
	k := &kioskLock{pin: pin, win: win, now: now, settings: settings}
	k.close = func() { closeSafely(win) }
	k.pinEntry = widget.NewPasswordEntry()
	k.pinEntry.PlaceHolder = "Station PIN"
	k.pinEntry.OnSubmitted = func(string) { k.onUnlock() }
	k.pinErr = fieldErrorLabel()
	unlock := &widget.Button{Text: "Unlock settings", Icon: theme.LoginIcon(), Importance: widget.HighImportance,
		OnTapped: k.onUnlock}
	title := titleLabel("Settings are locked")
	title.Alignment = fyne.TextAlignCenter
	var body []fyne.CanvasObject
	if pin == "" {
		body = []fyne.CanvasObject{title, &widget.Label{Text: noPINText, Wrapping: fyne.TextWrapWord}}
	} else {
		body = []fyne.CanvasObject{title,
			&widget.Label{Text: "Type the station PIN to change settings.", Alignment: fyne.TextAlignCenter},
			k.pinEntry, k.pinErr, container.NewCenter(unlock)}
	}
	k.gate = container.NewVScroll(container.NewCenter(container.New(fixedWidth{460}, body...)))
	k.page = container.NewStack(k.gate)
	return k
}

func (k *kioskLock) content() fyne.CanvasObject { return k.page }

func (k *kioskLock) unlocked() bool {
	return len(k.page.Objects) == 1 && k.page.Objects[0] == k.settings
}

// checkPIN compares in constant time and pauses after too many misses. It
// returns the sentence to show when the PIN is refused.
func (k *kioskLock) checkPIN(pin string) (ok bool, refusal string) {
	if k.pin == "" {
		return false, noPINText
	}
	now := k.now()
	if now.Before(k.lockedUntil) {
		return false, fmt.Sprintf("Too many wrong PINs. Wait %d seconds and try again.",
			int(k.lockedUntil.Sub(now).Round(time.Second)/time.Second))
	}
	if subtle.ConstantTimeCompare([]byte(pin), []byte(k.pin)) == 1 {
		k.wrong = 0
		return true, ""
	}
	k.wrong++
	if k.wrong >= kioskMaxWrong {
		k.wrong = 0
		k.lockedUntil = now.Add(kioskPause)
		return false, "Too many wrong PINs. Wait a minute and try again."
	}
	return false, "That PIN is not right. Ask the station's administrator for the PIN."
}

func (k *kioskLock) onUnlock() {
	ok, refusal := k.checkPIN(k.pinEntry.Text)
	k.pinEntry.SetText("")
	if !ok {
		setFieldError(k.pinErr, refusal)
		return
	}
	setFieldError(k.pinErr, "")
	k.page.Objects = []fyne.CanvasObject{k.settings}
	k.page.Refresh()
}

// focus puts the cursor in the PIN field while the gate is shown.
func (k *kioskLock) focus() {
	if k.pin != "" && !k.unlocked() {
		k.win.Canvas().Focus(k.pinEntry)
	}
}

// lock puts the gate back, e.g. when the technician leaves the Settings tab.
func (k *kioskLock) lock() {
	k.pinEntry.SetText("")
	setFieldError(k.pinErr, "")
	k.page.Objects = []fyne.CanvasObject{k.gate}
	k.page.Refresh()
}

// askToClose is the window's close intercept in kiosk mode.
func (k *kioskLock) askToClose() {
	if k.pin == "" {
		dialog.ShowInformation("The station stays open", "In kiosk mode the window closes only with the "+
			"station PIN, and none is set. Stop the station from its terminal (Ctrl+C) or service manager, "+
			"and set ADHOC_STATION_PIN for next time.", k.win)
		return
	}
	entry := widget.NewPasswordEntry()
	entry.PlaceHolder = "Station PIN"
	problem := fieldErrorLabel()
	var d *dialog.CustomDialog
	try := func() {
		ok, refusal := k.checkPIN(entry.Text)
		entry.SetText("")
		if !ok {
			setFieldError(problem, refusal)
			return
		}
		d.Hide()
		k.close()
	}
	entry.OnSubmitted = func(string) { try() }
	body := container.NewVBox(widget.NewLabel("Type the station PIN to close the station."), entry, problem)
	d = dialog.NewCustomWithoutButtons("Close the station?", body, k.win)
	d.SetButtons([]fyne.CanvasObject{widget.NewButton("Keep it open", func() { d.Hide() }),
		&widget.Button{Text: "Close station", Importance: widget.DangerImportance, OnTapped: try}})
	d.Resize(fyne.NewSize(420, 0))
	d.Show()
	k.win.Canvas().Focus(entry)
}
