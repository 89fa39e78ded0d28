package ui

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/mail"
)

// adhocTestEnv is the Ad Hoc Support screen on a real station (temporary
// SQLite file, manual clock) in a test window.
type adhocTestEnv struct {
	st    *core.Station
	clock *coretest.Clock
	win   fyne.Window
	s     *adhocScreen
	work  *workWatch
	anna  core.Profile
}

// adhocTestOpen builds the screen with one profile, Anna, already selected.
func adhocTestOpen(t *testing.T) *adhocTestEnv {
	t.Helper()
	test.NewTempApp(t)
	st, clock := coretest.Open(t)
	anna, err := st.CreateProfile(t.Context(), "Anna Tech", "anna.tech@example.com")
	if err != nil {
		t.Fatal(err)
	}
	win := test.NewWindow(nil)
	t.Cleanup(win.Close)
	s := newAdhocScreen(st, win)
	s.loc = time.UTC
	env := &adhocTestEnv{st: st, clock: clock, win: win, s: s, work: watchWork(&s.work), anna: anna}
	win.SetContent(s.content())
	win.Resize(fyne.NewSize(1000, 720))
	return env
}

// fill types the form the way a technician does.
func (e *adhocTestEnv) fill(email, password, confirm string) {
	test.Type(e.s.email, email)
	test.Type(e.s.password, password)
	test.Type(e.s.confirm, confirm)
}

// prepare taps the button and waits for Prepare's result to be applied.
func (e *adhocTestEnv) prepare(t *testing.T) {
	t.Helper()
	if e.s.submit.Disabled() {
		t.Fatal("the prepare button is disabled")
	}
	e.submitWith(t, func() { test.Tap(e.s.submit) })
}

// submitWith runs the action that starts Prepare and waits for the result.
func (e *adhocTestEnv) submitWith(t *testing.T, action func()) {
	t.Helper()
	e.work.during(t, jobPrepare, action)
}

// prepared fills a valid form, prepares and returns the code panel.
func (e *adhocTestEnv) prepared(t *testing.T) *codePanel {
	t.Helper()
	e.fill("user@example.com", coretest.Password, coretest.Password)
	e.prepare(t)
	if e.s.panel == nil {
		t.Fatalf("no code panel after preparing; submit error %q", e.s.submitErr.Text)
	}
	return e.s.panel
}

func TestAdhocPrepareShowsCodePanel(t *testing.T) {
	e := adhocTestOpen(t)
	if got := e.s.seats.Text; got != "5 of 5 seats free" {
		t.Errorf("seats = %q", got)
	}
	if !e.s.submit.Disabled() {
		t.Error("the button is enabled on an empty form")
	}
	e.fill("user@example.com", coretest.Password, coretest.Password[:5])
	if !e.s.submit.Disabled() {
		t.Error("the button is enabled before the confirmation matches")
	}
	test.Type(e.s.confirm, coretest.Password[5:])
	if e.s.submit.Disabled() {
		t.Fatal("the button stays disabled on a valid form")
	}
	if !strings.Contains(e.s.rules.Text, "meets the rules") {
		t.Errorf("rules = %q", e.s.rules.Text)
	}
	e.prepare(t)
	p := e.s.panel
	if p == nil {
		t.Fatal("no code panel")
	}
	if !regexp.MustCompile(`^\d{3} \d{3} \d{3}$`).MatchString(p.display.text.Text) {
		t.Errorf("code shown as %q", p.display.text.Text)
	}
	if p.display.text.TextSize < 3*test.Theme().Size("text") || !p.display.text.TextStyle.Monospace {
		t.Errorf("code is not large monospace: size %v style %+v", p.display.text.TextSize, p.display.text.TextStyle)
	}
	if !strings.HasPrefix(p.link, "https://localhost:8443/join/") || p.linkText.Text != p.link {
		t.Errorf("link = %q, shown %q", p.link, p.linkText.Text)
	}
	if got := decodeQR(t, p.display.qr.Image); got != p.link {
		t.Errorf("QR decodes to %q, want %q", got, p.link)
	}
	if e.s.password.Text != "" || e.s.confirm.Text != "" {
		t.Error("the password stays in the form after preparing")
	}
	if got := e.s.seats.Text; got != "4 of 5 seats free" {
		t.Errorf("seats after preparing = %q", got)
	}
	if got := p.status.Text; got != waitingText {
		t.Errorf("status = %q", got)
	}
}

func TestAdhocEnterSubmits(t *testing.T) {
	e := adhocTestOpen(t)
	e.fill("user@example.com", coretest.Password, coretest.Password)
	e.submitWith(t, func() { e.s.confirm.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) })
	if e.s.panel == nil {
		t.Fatal("Enter in the confirmation did not prepare the session")
	}
}

// TestAdhocRefusals checks that every refusal appears beside its field.
func TestAdhocRefusals(t *testing.T) {
	t.Run("ErrInvalidEmail", func(t *testing.T) {
		e := adhocTestOpen(t)
		test.Type(e.s.email, "anna@example")
		if labelShown(e.s.emailErr) {
			t.Error("the email error shows while the user is still typing")
		}
		test.Type(e.s.password, "x")
		if !labelShown(e.s.emailErr) || !strings.Contains(e.s.emailErr.Text, "not a valid email address") {
			t.Errorf("email error = %q (shown %v)", e.s.emailErr.Text, e.s.emailErr.Visible())
		}
		// Only the email is wrong: a valid password typed twice must not
		// enable the button, nor Enter prepare a session.
		e.s.password.SetText("")
		test.Type(e.s.password, coretest.Password)
		test.Type(e.s.confirm, coretest.Password)
		if e.s.password.Text != coretest.Password || labelShown(e.s.confirmErr) || !strings.Contains(e.s.rules.Text, "meets the rules") {
			t.Fatalf("the password is not valid yet: %q, rules %q", e.s.password.Text, e.s.rules.Text)
		}
		if !e.s.submit.Disabled() {
			t.Error("the button is enabled with an invalid email")
		}
		e.s.confirm.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		if e.s.busy || e.s.panel != nil {
			t.Error("Enter started preparing with an invalid email")
		}
		test.Type(e.s.email, ".com")
		if e.s.submit.Disabled() {
			t.Error("the button stays disabled once the email is fixed")
		}
	})
	t.Run("ErrWeakPassword", func(t *testing.T) {
		e := adhocTestOpen(t)
		e.fill("anna@example.com", "short", "short")
		if e.s.rules.Importance != widget.DangerImportance || !strings.Contains(e.s.rules.Text, "at least 10 characters") {
			t.Errorf("rules = %q (%v)", e.s.rules.Text, e.s.rules.Importance)
		}
		test.Type(e.s.password, "-anna-pass")
		if !strings.Contains(e.s.rules.Text, "email name (anna)") {
			t.Errorf("rules for a password with the email name = %q", e.s.rules.Text)
		}
		if !e.s.submit.Disabled() {
			t.Error("the button is enabled with a weak password")
		}
	})
	t.Run("ControlCharacters", func(t *testing.T) {
		// Typed or pasted: a NUL would become a blank password on Windows.
		for _, pw := range []string{"Correct\x00Horse-42", "Correct\tHorse-42", "Correct\nHorse-42", "Correct\x7fHorse-42"} {
			e := adhocTestOpen(t)
			e.fill("user@example.com", "", "")
			e.s.password.SetText(pw)
			e.s.confirm.SetText(pw)
			if e.s.rules.Importance != widget.DangerImportance || !strings.Contains(e.s.rules.Text, "must not contain control characters") {
				t.Errorf("%q: rules = %q (%v)", pw, e.s.rules.Text, e.s.rules.Importance)
			}
			if !e.s.submit.Disabled() {
				t.Errorf("%q: the button is enabled", pw)
			}
		}
	})
	t.Run("ErrPasswordInUse", func(t *testing.T) {
		e := adhocTestOpen(t)
		bob, err := e.st.CreateProfile(t.Context(), "Bob Tech", "bob.tech@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.Prepare(t.Context(), core.PrepareRequest{ProfileID: bob.ID, UserEmail: "other@example.com",
			Password: coretest.Password, Confirm: coretest.Password}); err != nil {
			t.Fatal(err)
		}
		e.fill("user@example.com", coretest.Password, coretest.Password)
		e.prepare(t)
		if e.s.panel != nil {
			t.Fatal("a session was prepared with another open session's password")
		}
		if !labelShown(e.s.submitErr) || e.s.submitErr.Text != core.ErrPasswordInUse.Error() {
			t.Errorf("refusal = %q", e.s.submitErr.Text)
		}
	})
	t.Run("ErrPasswordMismatch", func(t *testing.T) {
		e := adhocTestOpen(t)
		e.fill("user@example.com", coretest.Password, "Correct-Horse-43")
		if !labelShown(e.s.confirmErr) || !strings.Contains(e.s.confirmErr.Text, "do not match") {
			t.Errorf("confirmation error = %q", e.s.confirmErr.Text)
		}
		if !e.s.submit.Disabled() {
			t.Error("the button is enabled with a mismatch")
		}
	})
	t.Run("ErrProfileBusy", func(t *testing.T) {
		e := adhocTestOpen(t)
		if _, err := e.st.Prepare(t.Context(), core.PrepareRequest{ProfileID: e.anna.ID, UserEmail: "other@example.com",
			Password: coretest.Password, Confirm: coretest.Password}); err != nil {
			t.Fatal(err)
		}
		e.fill("user@example.com", coretest.Password, coretest.Password)
		e.prepare(t)
		if e.s.panel != nil {
			t.Fatal("a second session was prepared for a busy profile")
		}
		if !labelShown(e.s.profileErr) || !strings.Contains(e.s.profileErr.Text, "one ad hoc support session") {
			t.Errorf("profile error = %q", e.s.profileErr.Text)
		}
		if labelShown(e.s.seatErr) || labelShown(e.s.submitErr) {
			t.Error("the refusal shows in the wrong place")
		}
	})
	t.Run("ErrNoSeat", func(t *testing.T) {
		e := adhocTestOpen(t)
		set, err := e.st.Settings(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		set.Seats = 1
		if err := e.st.SaveSettings(t.Context(), set); err != nil {
			t.Fatal(err)
		}
		coretest.MustPrepare(t, e.st, "Bob Tech", "bob.tech@example.com")
		e.s.onEvent(core.Event{Kind: core.EventLagged}) // as the dispatcher would after those changes
		e.s.profile.SetSelectedIndex(adhocTestProfileIndex(t, e.s, e.anna.ID))
		if got := e.s.seats.Text; got != "0 of 1 seats free" {
			t.Errorf("seats = %q", got)
		}
		e.fill("user@example.com", coretest.Password, coretest.Password)
		e.prepare(t)
		if !labelShown(e.s.seatErr) || !strings.Contains(e.s.seatErr.Text, "seats are in use") {
			t.Errorf("seat error = %q", e.s.seatErr.Text)
		}
		if labelShown(e.s.profileErr) {
			t.Error("the seat refusal shows beside the profile")
		}
	})
}

func adhocTestProfileIndex(t *testing.T, s *adhocScreen, id int64) int {
	t.Helper()
	for i, p := range s.profiles {
		if p.ID == id {
			return i
		}
	}
	t.Fatalf("profile %d is not offered", id)
	return -1
}

func TestAdhocAddProfile(t *testing.T) {
	test.NewTempApp(t)
	st, _ := coretest.Open(t)
	win := test.NewWindow(nil)
	t.Cleanup(win.Close)
	s := newAdhocScreen(st, win)
	win.SetContent(s.content())
	win.Resize(fyne.NewSize(1000, 720))
	if !labelShown(s.profileErr) {
		t.Error("no hint to add a profile on a fresh station")
	}
	test.Tap(s.addProfile)
	top := win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog")
	}
	entries := findAll[*formEntry](top)
	if len(entries) != 2 {
		t.Fatalf("dialog has %d entries, want name and email", len(entries))
	}
	// Escape closes the dialog, as Cancel does; it opens again empty.
	win.Canvas().Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if win.Canvas().Overlays().Top() != nil {
		t.Fatal("Escape did not close the dialog")
	}
	test.Tap(s.addProfile)
	top = win.Canvas().Overlays().Top()
	entries = findAll[*formEntry](top)
	test.Type(entries[0], "Carla Tech")
	test.Type(entries[1], "carla@")
	test.Tap(findEscButton(t, top, "Add profile"))
	labels := findAll[*widget.Label](top)
	found := false
	for _, l := range labels {
		found = found || (l.Visible() && strings.Contains(l.Text, "not a valid email address"))
	}
	if !found {
		t.Error("the dialog does not say the email is invalid")
	}
	test.Type(entries[1], "example.com")
	test.Tap(findEscButton(t, top, "Add profile"))
	if win.Canvas().Overlays().Top() != nil {
		t.Error("the dialog stays open after adding")
	}
	if s.profile.Selected != "Carla Tech (carla@example.com)" {
		t.Errorf("selected %q", s.profile.Selected)
	}
}

// TestAdhocGoldenForm renders the filled form with a fixed clock and data.
func TestAdhocGoldenForm(t *testing.T) {
	e := adhocTestOpen(t)
	e.fill("user@example.com", coretest.Password, coretest.Password)
	test.AssertRendersToMarkup(t, "adhoc_form.xml", e.win.Canvas())
	test.AssertRendersToImage(t, "adhoc_form.png", e.win.Canvas())
}

func TestAdhocTabOrder(t *testing.T) {
	e := adhocTestOpen(t)
	e.fill("user@example.com", coretest.Password, coretest.Password)
	c := e.win.Canvas()
	c.Focus(e.s.email)
	for _, want := range []fyne.Focusable{e.s.password, e.s.confirm, e.s.generate, e.s.submit} {
		c.FocusNext()
		if c.Focused() != want {
			t.Fatalf("Tab went to %T, want %T", c.Focused(), want)
		}
	}
}

// TestErrorText checks the one mapping from errors to sentences: every
// refusal, sentinel or typed, from core or a sub-package, reads as its own
// sentence, even wrapped; anything else reads as an internal error.
func TestErrorText(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"ErrNoSeat", &core.SeatError{Seats: 5}, "All 5 seats are in use — end a session to free one."},
		{"ErrInvalidEmail", &core.EmailError{Address: "anna@", Reason: "no domain"}, `"anna@" is not a valid email address (no domain). Check it for typos, e.g. anna@example.com.`},
		{"ErrWeakPassword", &core.PasswordError{Rule: "The password needs at least 10 characters."}, "The password needs at least 10 characters."},
		{"ErrInvalidCode", &core.CodeError{AttemptsLeft: 2}, "That security code is not right. Check it with your technician — 2 tries left."},
		{"ErrRateLimited", &core.RateLimitError{RetryAfter: 30 * time.Second}, "Too many attempts from this computer. Try again in 30 seconds."},
		{"ErrInvalidSetting", &core.SettingError{Field: core.FieldSeats, Reason: "Enter a number of seats between 1 and 1000."},
			"Seats: Enter a number of seats between 1 and 1000."},
		{"ErrAuditBroken", &core.AuditError{RowID: 7, Reason: "hash mismatch"},
			"The audit log has been altered at entry 7: hash mismatch. Keep a copy of the database for investigation."},
		{"Errorf", core.Errorf("pairing_listen", "The pairing service cannot listen on :8443 (%w).", errors.New("in use")),
			"The pairing service cannot listen on :8443 (in use)."},
		{"MailError", &mail.Error{Stage: mail.StageAuth, Server: "mail.example.com:587", Code: 535, Reply: "5.7.8 Authentication failed"},
			"The mail server mail.example.com:587 refused to sign in: 535 5.7.8 Authentication failed. Check the SMTP user name and password in Settings."},
		{"Joined", errors.Join(&core.SettingError{Field: core.FieldSeats, Reason: "A."}, &core.SettingError{Field: core.FieldPublicPort, Reason: "B."}),
			"Seats: A. Public port: B."},
		{"Timeout", fmt.Errorf("load: %w", context.DeadlineExceeded), "The station took too long to answer. Try again."},
		{"Unknown", errors.New("disk I/O error"), internalErrorText},
		{"UnknownJoinedWithARefusal", errors.Join(core.ErrNoSeat, errors.New("disk I/O error")), internalErrorText},
		{"Nil", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := errorText(c.err); got != c.want {
				t.Errorf("errorText = %q, want %q", got, c.want)
			}
			if c.err == nil {
				return
			}
			if got := errorText(fmt.Errorf("wrapped: %w", c.err)); got != c.want {
				t.Errorf("wrapped: errorText = %q, want %q", got, c.want)
			}
		})
	}
	if !strings.Contains(internalErrorText, "internal error, see the log") {
		t.Errorf("internal errors read %q", internalErrorText)
	}
}

// Every sentinel core lists reads on screen as its own sentence, so a new
// refusal needs no change in ui: it only has to be made with core's refusal.
func TestEveryRefusalReadsAsItsOwnSentence(t *testing.T) {
	refusals := core.Refusals()
	if len(refusals) < 20 {
		t.Fatalf("core lists only %d refusals", len(refusals))
	}
	for _, r := range refusals {
		if got := errorText(fmt.Errorf("%s: %w", r.Code, r)); got != r.Message {
			t.Errorf("%s reads %q, want %q", r.Code, got, r.Message)
		}
	}
}

// Generate password fills both fields with a password that prepares a
// session, shows it once with a copy button, and takes it off the screen
// and the clipboard when the session is prepared.
func TestAdhocGeneratePassword(t *testing.T) {
	e := adhocTestOpen(t)
	test.Type(e.s.email, "user@example.com")
	if e.s.genRow.Visible() {
		t.Fatal("a generated password is shown before one was asked for")
	}
	test.Tap(e.s.generate)
	pw := e.s.password.Text
	if pw == "" || e.s.confirm.Text != pw || e.s.generated.Text != pw || !e.s.genRow.Visible() {
		t.Fatalf("after Generate: password %q, confirmation %q, shown %q (visible %v)",
			pw, e.s.confirm.Text, e.s.generated.Text, e.s.genRow.Visible())
	}
	if err := e.st.ValidatePassword("user@example.com", pw); err != nil {
		t.Fatalf("generated %q is refused: %v", pw, err)
	}
	if e.s.submit.Disabled() || e.s.rules.Text != "The password meets the rules." {
		t.Fatalf("the form does not accept the generated password: %q", e.s.rules.Text)
	}
	test.Tap(e.s.copyPass)
	if got := fyne.CurrentApp().Clipboard().Content(); got != pw {
		t.Fatalf("clipboard holds %q, want the generated password", got)
	}
	if e.s.copyPass.Text != "Copied" {
		t.Errorf("the copy button says %q after copying", e.s.copyPass.Text)
	}

	// A second press draws a new one; typing over it hides the shown one.
	test.Tap(e.s.generate)
	if e.s.password.Text == pw || e.s.generated.Text != e.s.password.Text {
		t.Fatalf("a second Generate gave %q after %q (shown %q)", e.s.password.Text, pw, e.s.generated.Text)
	}
	if got := fyne.CurrentApp().Clipboard().Content(); got == pw {
		t.Error("the replaced password stays on the clipboard")
	}
	test.Type(e.s.password, "x")
	if e.s.genRow.Visible() || e.s.generated.Text != "" {
		t.Fatal("the generated password is still shown after the technician changed the field")
	}

	test.Tap(e.s.generate)
	pw = e.s.password.Text
	test.Tap(e.s.copyPass)
	e.prepare(t)
	if e.s.panel == nil {
		t.Fatalf("no session prepared with the generated password: %q", e.s.submitErr.Text)
	}
	if e.s.genRow.Visible() || e.s.generated.Text != "" || e.s.password.Text != "" || e.s.confirm.Text != "" {
		t.Error("the generated password is still on the form after the session was prepared")
	}
	if got := fyne.CurrentApp().Clipboard().Content(); got == pw {
		t.Error("the generated password stays on the clipboard after the session was prepared")
	}
	// The PC receives the generated password when it pairs.
	paired, err := e.st.Pair(t.Context(), core.PairRequest{Token: e.s.panel.sess.Token, Code: e.s.panel.code,
		RemoteAddr: "192.0.2.10:5000", Facts: coretest.WindowsPC})
	if err != nil || paired.Password != pw {
		t.Errorf("pairing gave the password %q (%v), want the generated %q", paired.Password, err, pw)
	}
}

// TestAdhocPasswordNoteOnlyWithAPassword: "will not be shown again" is about
// a password; before one is typed there is nothing to keep.
func TestAdhocPasswordNoteOnlyWithAPassword(t *testing.T) {
	e := adhocTestOpen(t)
	shown := func() bool {
		for _, l := range findAll[*widget.Label](e.win.Content()) {
			if l.Text == passwordNote {
				return true
			}
		}
		return false
	}
	if shown() {
		t.Error("the password note is shown before any password exists")
	}
	test.Type(e.s.password, "x")
	if !shown() {
		t.Error("the password note is not shown once a password is typed")
	}
}

// TestAdhocIntroNotOverlappedAt800: in the narrowest window the intro wraps
// to more lines, and the rows below it move down rather than draw over it.
func TestAdhocIntroNotOverlappedAt800(t *testing.T) {
	e := adhocTestOpen(t)
	e.win.Resize(fyne.NewSize(800, 600))
	var intro *widget.Label
	for _, l := range findAll[*widget.Label](e.win.Content()) {
		if strings.HasPrefix(l.Text, "The end user gets an email") {
			intro = l
		}
	}
	if intro == nil {
		t.Fatal("no intro line on the form")
	}
	abs := func(o fyne.CanvasObject) fyne.Position {
		return fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
	}
	bottom := abs(intro).Y + intro.MinSize().Height
	if top := abs(e.s.profile).Y; top < bottom-0.5 {
		t.Errorf("the Technician row starts at %.0f, inside the intro (which needs down to %.0f at %.0f wide)", top, bottom, intro.Size().Width)
	}
}

// tabScrollsIntoView checks that Tab from prev onto field brings field into
// scroll's view, from whichever end of the page leaves it out of view.
func tabScrollsIntoView(t *testing.T, c fyne.Canvas, scroll *container.Scroll, prev fyne.Focusable, field *formEntry) {
	t.Helper()
	d := fyne.CurrentApp().Driver()
	inView := func() (float32, float32, bool) {
		top := d.AbsolutePositionForObject(field).Y - d.AbsolutePositionForObject(scroll).Y
		bottom := top + field.Size().Height
		return top, bottom, top >= 0 && bottom <= scroll.Size().Height
	}
	tried := false
	for _, end := range []func(){scroll.ScrollToTop, scroll.ScrollToBottom} {
		c.Focus(prev)
		end()
		if _, _, ok := inView(); ok {
			continue
		}
		tried = true
		c.FocusNext()
		if c.Focused() != field {
			t.Fatalf("Tab went to %T, want the field", c.Focused())
		}
		if top, bottom, ok := inView(); !ok {
			t.Errorf("the focused field is at %.0f..%.0f, outside the page's view (0..%.0f)", top, bottom, scroll.Size().Height)
		}
	}
	if !tried {
		t.Fatalf("the field is in view at both ends of the page (%.0f high, content %.0f); the test proves nothing at this size",
			scroll.Size().Height, scroll.Content.MinSize().Height)
	}
}

// TestAdhocTabScrollsPasswords: in the whole window at 800×600 Tab onto the
// password fields scrolls them into view, as it does for the email, and
// their show/hide button still reveals the password.
func TestAdhocTabScrollsPasswords(t *testing.T) {
	w, _, _, _ := uiTestWindow(t, Options{})
	// At 800×600 the page scrolls by only some 20 pixels with the password
	// generated, which never hides its fields; a lower window (a laptop
	// with a large text scale) does.
	w.win.Resize(fyne.NewSize(800, 360))
	s := w.adhoc
	s.onGeneratePassword() // the generated password and its note make the page taller
	c := w.win.Canvas()
	scroll := s.password.scroll
	if scroll == nil {
		t.Fatal("the password field does not know its page")
	}
	tabScrollsIntoView(t, c, scroll, s.email, s.password)
	tabScrollsIntoView(t, c, scroll, s.password, s.confirm)

	for _, f := range []*formEntry{s.password, s.confirm} {
		reveal := revealButton(t, f)
		test.Tap(reveal)
		if f.Password {
			t.Error("the show/hide button did not show the password")
		}
		test.Tap(reveal)
		if !f.Password {
			t.Error("the show/hide button did not hide the password again")
		}
	}
}

// revealButton is the show/hide button Entry's renderer puts in a password
// field: the one tappable inside it other than the entry itself.
func revealButton(t *testing.T, f *formEntry) fyne.Tappable {
	t.Helper()
	var found fyne.Tappable
	walk(f, func(o fyne.CanvasObject) {
		if tp, ok := o.(fyne.Tappable); ok && o != fyne.CanvasObject(f) && found == nil {
			found = tp
		}
	})
	if found == nil {
		t.Fatal("the password field has no show/hide button")
	}
	return found
}

// findEscButton is findButton for a dialog's buttons that take Escape.
func findEscButton(t *testing.T, o fyne.CanvasObject, text string) *escButton {
	t.Helper()
	for _, b := range findAll[*escButton](o) {
		if b.Text == text {
			return b
		}
	}
	t.Fatalf("no %q button on screen", text)
	return nil
}

// pressKey delivers k as the desktop driver does: to the focused object, or
// to the canvas when nothing has focus.
func pressKey(c fyne.Canvas, k fyne.KeyName) {
	ev := &fyne.KeyEvent{Name: k}
	if f := c.Focused(); f != nil {
		f.TypedKey(ev)
	} else if h := c.OnTypedKey(); h != nil {
		h(ev)
	}
}

// TestAdhocAddProfileEscape: Escape closes "Add a technician profile"
// whatever has focus in it, or with nothing focused; the window's own key
// handler gets the other keys meanwhile and has the canvas back after.
func TestAdhocAddProfileEscape(t *testing.T) {
	e := adhocTestOpen(t)
	c := e.win.Canvas()
	var before []fyne.KeyName
	c.SetOnTypedKey(func(k *fyne.KeyEvent) { before = append(before, k.Name) })
	focus := map[string]func(top fyne.CanvasObject){
		"name":        func(top fyne.CanvasObject) { c.Focus(findAll[*formEntry](top)[0]) },
		"email":       func(top fyne.CanvasObject) { c.Focus(findAll[*formEntry](top)[1]) },
		"Cancel":      func(top fyne.CanvasObject) { c.Focus(findEscButton(t, top, "Cancel")) },
		"Add profile": func(top fyne.CanvasObject) { c.Focus(findEscButton(t, top, "Add profile")) },
		"nothing":     func(fyne.CanvasObject) { c.Unfocus() },
	}
	for what, set := range focus {
		test.Tap(e.s.addProfile)
		top := c.Overlays().Top()
		if top == nil {
			t.Fatal("no dialog")
		}
		set(top)
		if what == "nothing" {
			pressKey(c, fyne.KeyF5) // not the dialog's: the window's handler gets it
			if len(before) != 1 || before[0] != fyne.KeyF5 {
				t.Errorf("with the dialog up the window's key handler got %v, want [F5]", before)
			}
		}
		pressKey(c, fyne.KeyEscape)
		if c.Overlays().Top() != nil {
			t.Errorf("Escape with %s focused did not close the dialog", what)
			c.Overlays().Top().Hide()
		}
	}
	if got := len(before); got != 1 {
		t.Errorf("the window's key handler got %d keys while dialogs were up, want only F5", got)
	}
	// The dialog's handler is gone: Escape with nothing focused reaches the
	// window's own handler again.
	c.Unfocus()
	pressKey(c, fyne.KeyEscape)
	if len(before) != 2 || before[1] != fyne.KeyEscape {
		t.Errorf("after the dialog closed the window's key handler got %v, want [F5 Escape]", before)
	}
}
