package ui

import (
	"errors"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// The window must fit an ordinary screen: it may ask for at most this much,
// and every page must be usable at the common laptop size fitTestScreen.
var (
	fitTestMax    = fyne.NewSize(800, 600)
	fitTestScreen = fyne.NewSize(1280, 720)
)

// fitTestState puts the window into one state and returns the buttons that
// must be on screen without scrolling: the page's fixed actions at any
// allowed size, and (after them, from index fixed on) the ones that are
// part of the page's content at the screen size.
type fitTestState struct {
	name  string
	tab   int
	setup func(t *testing.T, w *stationWindow, st *core.Station) (buttons []*widget.Button, fixed int)
}

var fitTestStates = []fitTestState{
	{"FormWithEveryRefusal", 0, func(t *testing.T, w *stationWindow, st *core.Station) ([]*widget.Button, int) {
		s := w.adhoc
		test.Type(s.email, "not an address")
		test.Type(s.password, "short")
		test.Type(s.confirm, "shorter")
		for _, err := range []error{core.ErrNoSeat, core.ErrProfileBusy, core.ErrInvalidEmail,
			core.ErrWeakPassword, core.ErrPasswordMismatch,
			errors.New("the mail server refused the message: 550 5.7.1 relaying denied for this sender")} {
			s.showRefusal(err)
		}
		for _, l := range []*widget.Label{s.profileErr, s.seatErr, s.emailErr, s.confirmErr, s.submitErr} {
			if !labelShown(l) {
				t.Fatal("a refusal is not shown")
			}
		}
		return []*widget.Button{s.submit, s.addProfile}, 1
	}},
	{"CodePanelNotSent", 0, func(t *testing.T, w *stationWindow, st *core.Station) ([]*widget.Button, int) {
		_, prep := coretest.MustPrepare(t, st, "Anna Tech", "anna.tech@example.com")
		w.adhoc.showPanel(prep)
		p := w.adhoc.panel
		setFieldError(p.actionErr, errorText(core.ErrNotPrepared))
		return []*widget.Button{p.regenerate, p.cancel, p.leave, p.copyCode, p.copyLink, p.openMail}, 3
	}},
	{"CodePanelPaired", 0, func(t *testing.T, w *stationWindow, st *core.Station) ([]*widget.Button, int) {
		_, prep := coretest.MustPrepare(t, st, "Anna Tech", "anna.tech@example.com")
		w.adhoc.showPanel(prep)
		paired := pairPC(t, st, prep)
		p := w.adhoc.panel
		p.sess = paired.Session
		p.show()
		return []*widget.Button{p.cancel, p.leave}, 2
	}},
	{"Computers10000", 1, func(t *testing.T, w *stationWindow, st *core.Station) ([]*widget.Button, int) {
		s := w.screens[1].(*computersScreen)
		s.filter.SetSelected(filterAll)
		if len(s.rows) != 10000 {
			t.Fatalf("listed %d sessions", len(s.rows))
		}
		s.list.Select(3)
		s.showError(core.ErrSessionClosed)
		return []*widget.Button{s.connect, s.end}, 2
	}},
	{"Activity", 2, func(t *testing.T, w *stationWindow, st *core.Station) ([]*widget.Button, int) {
		s := w.screens[2].(*activityScreen)
		s.reload()
		s.list.Select(0)
		s.setVerdict(errorText(&core.AuditError{RowID: 2, Reason: "its content was changed"}), widget.DangerImportance)
		return []*widget.Button{s.verify}, 1
	}},
	{"SettingsWithEveryFieldError", 3, func(t *testing.T, w *stationWindow, st *core.Station) ([]*widget.Button, int) {
		return fitTestSettingsRefused(w, core.SMTPAuthPassword)
	}},
	{"SettingsMicrosoftOAuthWithEveryFieldError", 3, func(t *testing.T, w *stationWindow, st *core.Station) ([]*widget.Button, int) {
		return fitTestSettingsRefused(w, core.SMTPAuthMicrosoft)
	}},
	{"SettingsGoogleOAuthWithEveryFieldError", 3, func(t *testing.T, w *stationWindow, st *core.Station) ([]*widget.Button, int) {
		return fitTestSettingsRefused(w, core.SMTPAuthGoogle)
	}},
}

// fitTestSettingsRefused shows the Settings page with the sign-in method's
// rows and a refusal under every field.
func fitTestSettingsRefused(w *stationWindow, method core.SMTPAuth) ([]*widget.Button, int) {
	s := w.screens[3].(*settingsScreen)
	if w.kiosk != nil {
		test.Type(w.kiosk.pinEntry, "4821")
		w.kiosk.onUnlock()
	}
	s.method.SetSelected(methodLabel(method))
	bad := map[string]string{}
	for f := range s.errs {
		bad[f] = "This field is refused with a sentence long enough to wrap on a narrow window, as core's are."
	}
	s.showFieldErrors(bad)
	s.setStatus("Not saved: correct the 15 fields marked in red.", widget.DangerImportance)
	s.testOut.SetText("The test email was not sent. The mail server at smtp.example.com:587 did not answer within 30 seconds.")
	s.testOut.Show()
	s.pwForget.Show()
	return []*widget.Button{s.save}, 1
}

// fitTestWindow opens the whole window on a station holding 10,000 sessions
// (so Computers and Activity are full) in the normal or the kiosk theme.
func fitTestWindow(t *testing.T, dir string, kiosk bool, pin string) (*stationWindow, *core.Station) {
	t.Helper()
	a := test.NewTempApp(t)
	st := coretest.OpenWith(t, dir, coretest.NewClock(coretest.Start), nil)
	w := newStationWindow(a, st, Options{Kiosk: kiosk, KioskPIN: pin, PairingFingerprint: func() string {
		return "3F:9A:12:7C:E4:0B:55:D1:8E:26:C3:7F:A0:19:4D:B2:66:0E:F8:31:9C:45:AB:72:10:DE:5A:83:C6:2F:97:E4"
	}}, 0)
	// The states are set up by calling the screens directly; core's events
	// would reach them from the window's delivery goroutine and race.
	w.sub.Close()
	t.Cleanup(w.win.Close)
	return w, st
}

func TestWindowFitsScreen(t *testing.T) {
	dir := t.TempDir()
	pagesBenchSeed(t, dir, 10000)
	for _, kiosk := range []bool{false, true} {
		mode := map[bool]string{false: "Normal", true: "Kiosk"}[kiosk]
		for _, tc := range fitTestStates {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				data := t.TempDir()
				if tc.tab == 1 || tc.tab == 2 {
					data = dir // only these pages list sessions; the others prepare their own
				}
				w, st := fitTestWindow(t, data, kiosk, "4821")
				w.tabs.SelectIndex(tc.tab)
				w.win.Resize(fitTestScreen)
				buttons, fixed := tc.setup(t, w, st)
				fitTestCheck(t, w, buttons, fixed)
			})
		}
	}
	for _, pin := range []string{"", "4821"} {
		t.Run("Kiosk/PINLock"+map[bool]string{true: "WithoutPIN", false: ""}[pin == ""], func(t *testing.T) {
			w, _ := fitTestWindow(t, t.TempDir(), true, pin)
			k := w.kiosk
			w.tabs.SelectIndex(3)
			w.win.Resize(fitTestScreen)
			var buttons []*widget.Button
			if pin != "" {
				test.Type(k.pinEntry, "1111")
				k.onUnlock()
				buttons = append(buttons, findButton(t, k.gate, "Unlock settings"))
			}
			fitTestCheck(t, w, buttons, len(buttons))
		})
	}
}

// fitTestCheck asserts, at the screen size and at the largest allowed
// minimum, that the window asks for no more than fitTestMax and that the
// buttons are on screen, outside any scrolled-away area (buttons[fixed:]
// at the screen size only).
func fitTestCheck(t *testing.T, w *stationWindow, buttons []*widget.Button, fixed int) {
	t.Helper()
	sizes := []fyne.Size{fitTestScreen, fitTestMax}
	if w.opts.Kiosk {
		sizes = append(sizes, fyne.NewSize(1280, 800), fyne.NewSize(1920, 1080)) // the kiosk's touch screens
	}
	for _, size := range sizes {
		w.win.Resize(size)
		pad := float32(0)
		if w.win.Padded() {
			pad = 2 * theme.Padding()
		}
		min := w.win.Content().MinSize().AddWidthHeight(pad, pad)
		t.Logf("at %v the window asks for at least %v", size, min)
		if min.Width > fitTestMax.Width || min.Height > fitTestMax.Height {
			t.Errorf("at %v the window asks for at least %v, more than %v", size, min, fitTestMax)
		}
		check := buttons
		if size == fitTestMax {
			check = buttons[:fixed]
		}
		for _, b := range check {
			if !fitTestOnScreen(w.win.Canvas(), b) {
				t.Errorf("at %v the button %q is not on screen", size, b.Text)
			}
		}
	}
}

// fitTestOnScreen reports whether o is visible and wholly inside the
// canvas and inside the viewport of every scroll container around it.
func fitTestOnScreen(c fyne.Canvas, o fyne.CanvasObject) bool {
	type rect struct{ pos, end fyne.Position }
	var walk func(n fyne.CanvasObject, origin fyne.Position, clip rect) bool
	walk = func(n fyne.CanvasObject, origin fyne.Position, clip rect) bool {
		if !n.Visible() {
			return false
		}
		pos := origin.Add(n.Position())
		if n == o {
			end := pos.Add(n.Size())
			return pos.X >= clip.pos.X-0.5 && pos.Y >= clip.pos.Y-0.5 && end.X <= clip.end.X+0.5 && end.Y <= clip.end.Y+0.5
		}
		if s, ok := n.(*container.Scroll); ok {
			end := pos.Add(s.Size())
			clip = rect{fyne.NewPos(max(clip.pos.X, pos.X), max(clip.pos.Y, pos.Y)),
				fyne.NewPos(min(clip.end.X, end.X), min(clip.end.Y, end.Y))}
			return walk(s.Content, pos, clip) // the content sits at -Offset
		}
		var children []fyne.CanvasObject
		switch n := n.(type) {
		case *fyne.Container:
			children = n.Objects
		case fyne.Widget:
			children = test.WidgetRenderer(n).Objects()
		}
		for _, child := range children {
			if walk(child, pos, clip) {
				return true
			}
		}
		return false
	}
	return walk(c.Content(), fyne.Position{}, rect{end: fyne.Position{X: c.Size().Width, Y: c.Size().Height}})
}
