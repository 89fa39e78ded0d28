package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

func TestKioskWindow(t *testing.T) {
	w, _, _, _ := uiTestWindow(t, Options{Kiosk: true, KioskPIN: "4821"})
	if !w.win.FullScreen() {
		t.Error("kiosk mode is not full screen")
	}
	if _, ok := fyne.CurrentApp().Settings().Theme().(*kioskTheme); !ok {
		t.Error("kiosk mode does not use the larger type")
	}
	if w.kiosk == nil || w.kiosk.unlocked() {
		t.Error("settings start unlocked")
	}
}

func TestKioskTheme(t *testing.T) {
	a := test.NewTempApp(t)
	applyKioskTheme(a)
	got := a.Settings().Theme().Size(theme.SizeNameText)
	if want := theme.DefaultTheme().Size(theme.SizeNameText) * kioskScale; got != want {
		t.Errorf("kiosk text size %v, want %v", got, want)
	}
}

func TestKioskSettingsPIN(t *testing.T) {
	w, _, clock, _ := uiTestWindow(t, Options{Kiosk: true, KioskPIN: "4821"})
	k := w.kiosk
	settingsTab := w.tabs.Items[3]
	if settingsTab.Content != k.page || k.unlocked() {
		t.Fatal("the Settings tab is not behind the PIN")
	}
	w.tabs.Select(settingsTab)
	if w.win.Canvas().Focused() != k.pinEntry {
		t.Error("the PIN field does not have the cursor when the Settings tab opens")
	}
	test.Type(k.pinEntry, "1111")
	k.onUnlock()
	if k.unlocked() || !labelShown(k.pinErr) || !strings.Contains(k.pinErr.Text, "not right") {
		t.Fatalf("wrong PIN: unlocked %v, message %q", k.unlocked(), k.pinErr.Text)
	}
	test.Type(k.pinEntry, "4821")
	k.onUnlock()
	if !k.unlocked() || labelShown(k.pinErr) {
		t.Fatal("the right PIN did not unlock the settings")
	}
	w.tabs.Select(w.tabs.Items[0])
	if k.unlocked() {
		t.Error("settings stay unlocked after leaving the tab")
	}

	t.Run("TooManyWrong", func(t *testing.T) {
		for i := 0; i < kioskMaxWrong; i++ {
			test.Type(k.pinEntry, "0000")
			k.onUnlock()
		}
		test.Type(k.pinEntry, "4821")
		k.onUnlock()
		if k.unlocked() || !strings.Contains(k.pinErr.Text, "Too many wrong PINs") {
			t.Fatalf("after %d wrong PINs: unlocked %v, %q", kioskMaxWrong, k.unlocked(), k.pinErr.Text)
		}
		clock.Advance(kioskPause + time.Second)
		test.Type(k.pinEntry, "4821")
		k.onUnlock()
		if !k.unlocked() {
			t.Error("the pause does not end")
		}
	})
}

func TestKioskNoPIN(t *testing.T) {
	w, _, _, _ := uiTestWindow(t, Options{Kiosk: true})
	w.tabs.Select(w.tabs.Items[3]) // only what is on screen counts
	texts := ""
	for _, l := range findAll[*widget.Label](w.kiosk.page) {
		texts += l.Text + "\n"
	}
	if !strings.Contains(texts, "ADHOC_STATION_PIN") {
		t.Errorf("the locked page does not say how to set a PIN:\n%s", texts)
	}
	if ok, _ := w.kiosk.checkPIN(""); ok {
		t.Error("an empty PIN unlocks")
	}
	w.onCloseRequest()
	if w.win.Canvas().Overlays().Top() == nil {
		t.Error("closing without a PIN set says nothing")
	}
	select {
	case <-w.stop:
		t.Error("the kiosk window closed without a PIN")
	default:
	}
}

func TestKioskCloseNeedsPIN(t *testing.T) {
	w, _, _, _ := uiTestWindow(t, Options{Kiosk: true, KioskPIN: "4821"})
	w.onCloseRequest()
	top := w.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("closing did not ask for the PIN")
	}
	entries := findAll[*widget.Entry](top)
	if len(entries) != 1 {
		t.Fatalf("%d entries in the PIN dialog", len(entries))
	}
	test.Type(entries[0], "9999")
	test.Tap(findButton(t, top, "Close station"))
	select {
	case <-w.stop:
		t.Fatal("a wrong PIN closed the window")
	default:
	}
	test.Type(entries[0], "4821")
	test.Tap(findButton(t, top, "Close station"))
	select {
	case <-w.stop:
	default:
		t.Fatal("the right PIN did not close the window")
	}
}

// At a kiosk the next technician must not inherit the previous one's
// profile and end user; at a desk both stay for the next session.
func TestKioskFormForgetsPreviousTechnician(t *testing.T) {
	for _, kiosk := range []bool{true, false} {
		w, st, _, work := uiTestWindow(t, Options{Kiosk: kiosk, KioskPIN: "4821"})
		if _, err := st.CreateProfile(t.Context(), "Bob Lindqvist", "bob@example.com"); err != nil {
			t.Fatal(err)
		}
		work.wait(t, eventJob(core.EventProfiles))
		_, prep := coretest.MustPrepare(t, st, "Ann Keller", "ann@example.com")
		work.wait(t, eventJob(core.EventPrepared))
		s := w.adhoc
		s.profile.SetSelectedIndex(1)
		s.email.SetText("user@example.com")
		s.showPanel(prep)
		s.showForm()
		forgot := s.profile.SelectedIndex() == -1 && s.email.Text == ""
		if forgot != kiosk {
			t.Errorf("kiosk=%v: after leaving the panel profile index %d, email %q", kiosk, s.profile.SelectedIndex(), s.email.Text)
		}
	}
}
