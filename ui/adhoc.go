package ui

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
)

// adhocScreen is the "Ad Hoc Support" page: the technician fills the form,
// the station prepares a session, and the code panel takes over the page.
type adhocScreen struct {
	st  *core.Station
	win fyne.Window
	now func() time.Time
	loc *time.Location // where times are shown; the technician's zone

	profiles   []core.Profile
	profile    *widget.Select
	addProfile *widget.Button
	profileErr *widget.Label
	seats      *widget.Label
	seatErr    *widget.Label
	email      *formEntry
	emailErr   *widget.Label
	password   *formEntry
	generate   *widget.Button
	generated  *widget.Label // a generated password, shown in clear until the form lets go of it
	copyPass   *widget.Button
	genRow     fyne.CanvasObject
	rules      *widget.Label // the password rules, checked as you type
	pwNote     *widget.Label // "will not be shown again", once there is a password
	confirm    *formEntry
	confirmErr *widget.Label
	submit     *widget.Button
	progress   *widget.ProgressBarInfinite
	submitErr  *widget.Label

	form  fyne.CanvasObject
	page  *fyne.Container // holds the form or the code panel
	panel *codePanel      // nil while the form is shown

	emailTouched bool // show the email's problem only once the user moved on
	busy         bool
	// kiosk: several technicians share the station, so leaving the code
	// panel forgets who prepared it and for whom.
	kiosk bool

	work background
}

const (
	prepareButtonText = "Send email and prepare session"
	passwordNote      = "This password will not be shown again. It opens a hidden Administrator account " +
		"on the user's PC for the 24 hours of the session — keep it somewhere safe until then."
)

func newAdhocScreen(st *core.Station, win fyne.Window) *adhocScreen {
	s := &adhocScreen{st: st, win: win, now: st.Now, loc: time.Local}
	s.profile = widget.NewSelect(nil, func(string) { s.profileErr.Hide(); s.validate() })
	s.profile.PlaceHolder = "Choose your technician profile"
	s.addProfile = widget.NewButtonWithIcon("Add profile", theme.ContentAddIcon(), s.onAddProfile)
	s.profileErr = fieldErrorLabel()
	s.seats = widget.NewLabel("")
	s.seatErr = fieldErrorLabel()
	s.email = newFormEntry("anna@example.com")
	s.email.OnChanged = func(string) { s.validate() }
	s.email.OnSubmitted = func(string) { s.emailTouched = true; s.onSubmit() }
	s.emailErr = fieldErrorLabel()
	s.password = newFormPasswordEntry(fmt.Sprintf("At least %d characters", core.MinPasswordLength))
	s.password.OnChanged = func(string) { s.emailTouched = true; s.forgetGeneratedIfChanged(); s.validate() }
	s.password.OnSubmitted = func(string) { s.onSubmit() }
	s.generate = widget.NewButtonWithIcon("Generate password", theme.ViewRefreshIcon(), s.onGeneratePassword)
	s.generated = &widget.Label{TextStyle: fyne.TextStyle{Monospace: true}, Selectable: true}
	s.copyPass = widget.NewButtonWithIcon("Copy password", theme.ContentCopyIcon(), s.onCopyPassword)
	s.rules = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.confirm = newFormPasswordEntry("Type the password again")
	s.confirm.OnChanged = func(string) { s.emailTouched = true; s.forgetGeneratedIfChanged(); s.validate() }
	s.confirm.OnSubmitted = func(string) { s.onSubmit() }
	s.confirmErr = fieldErrorLabel()
	s.submit = &widget.Button{Text: prepareButtonText, Icon: theme.MailSendIcon(), Importance: widget.HighImportance,
		OnTapped: s.onSubmit}
	s.submit.ExtendBaseWidget(s.submit)
	s.progress = widget.NewProgressBarInfinite()
	s.progress.Stop()
	s.progress.Hide()
	s.submitErr = fieldErrorLabel()
	s.form = s.layoutForm()
	s.page = container.NewStack(s.form)
	s.reloadProfiles()
	s.reloadSeats()
	s.validate()
	return s
}

func (s *adhocScreen) content() fyne.CanvasObject { return s.page }

func (s *adhocScreen) layoutForm() fyne.CanvasObject {
	// Bold body colour rather than the warning colour: orange text on white
	// is too faint to read in the light theme.
	s.pwNote = &widget.Label{Text: passwordNote, Wrapping: fyne.TextWrapWord, TextStyle: fyne.TextStyle{Bold: true}}
	s.pwNote.Hide() // shown by validate once a password is typed or generated
	s.genRow = container.NewBorder(nil, nil, nil, s.copyPass, s.generated)
	s.genRow.Hide()
	fields := container.New(layout.NewFormLayout(),
		widget.NewLabel("Technician"), container.NewVBox(container.NewBorder(nil, nil, nil, s.addProfile, s.profile), s.profileErr),
		widget.NewLabel("Seats"), container.NewVBox(s.seats, s.seatErr),
		widget.NewLabel("End user's email"), container.NewVBox(s.email, s.emailErr),
		widget.NewLabel("Password"), container.NewVBox(s.password, s.rules),
		widget.NewLabel("Confirm password"), container.NewVBox(s.confirm, s.confirmErr),
		// After the fields, so Tab still goes from password to confirmation.
		layout.NewSpacer(), container.NewVBox(container.NewHBox(s.generate), s.genRow),
	)
	title := titleLabel("Prepare an ad hoc support session")
	intro := &widget.Label{Wrapping: fyne.TextWrapWord, Text: "The end user gets an email with a link to the " +
		"Support Session app. When they run it, read them the security code shown on the next screen."}
	// The button stays below the scrolling fields: on a small screen it must
	// not scroll away from the refusals it answers to.
	page, scroll := scrollPageOf(container.New(reflowVBox{}, title, intro, fields, s.pwNote),
		container.NewHBox(s.submit), s.progress, s.submitErr)
	for _, e := range []*formEntry{s.email, s.password, s.confirm} {
		e.scroll = scroll
	}
	return page
}

// errorLabel is the plain-words message shown beside the field it is about.
func fieldErrorLabel() *widget.Label {
	l := &widget.Label{Wrapping: fyne.TextWrapWord, Importance: widget.DangerImportance}
	l.Hide()
	return l
}

func setFieldError(l *widget.Label, text string) {
	l.SetText(text)
	if text == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

// validate checks the form as the user types, with core's own rules, and
// enables the button only when Prepare could succeed.
func (s *adhocScreen) validate() {
	emailOK, pwOK, sameOK := true, true, true
	addr, err := core.ParseEmail(s.email.Text)
	if err != nil {
		emailOK = false
		if s.emailTouched && strings.TrimSpace(s.email.Text) != "" {
			setFieldError(s.emailErr, errorText(err))
		} else {
			setFieldError(s.emailErr, "")
		}
	} else {
		setFieldError(s.emailErr, "")
	}
	switch err := s.st.ValidatePassword(addr, s.password.Text); {
	case s.password.Text == "":
		pwOK = false
		s.rules.Importance = widget.MediumImportance
		s.rules.SetText(fmt.Sprintf("At least %d characters, and not the user's email name.", core.MinPasswordLength))
	case err != nil:
		pwOK = false
		s.rules.Importance = widget.DangerImportance
		s.rules.SetText(errorText(err))
	default:
		// Body colour: the theme's green on white is too faint to read.
		s.rules.Importance = widget.MediumImportance
		s.rules.SetText("The password meets the rules.")
	}
	if s.confirm.Text != s.password.Text {
		sameOK = false
		// Wait until the confirmation can no longer become equal.
		if !strings.HasPrefix(s.password.Text, s.confirm.Text) {
			setFieldError(s.confirmErr, errorText(core.ErrPasswordMismatch))
		} else {
			setFieldError(s.confirmErr, "")
		}
	} else {
		setFieldError(s.confirmErr, "")
	}
	showIf(s.pwNote, s.password.Text != "")
	if s.selectedProfile() == 0 || !emailOK || !pwOK || !sameOK || s.busy {
		s.submit.Disable()
	} else {
		s.submit.Enable()
	}
}

func (s *adhocScreen) selectedProfile() int64 {
	i := s.profile.SelectedIndex()
	if i < 0 || i >= len(s.profiles) {
		return 0
	}
	return s.profiles[i].ID
}

// onSubmit runs Prepare off the Fyne goroutine (argon2 hashing takes a
// noticeable moment) and applies the result with fyne.Do.
func (s *adhocScreen) onSubmit() {
	s.validate()
	if s.busy || s.submit.Disabled() {
		return
	}
	req := core.PrepareRequest{ProfileID: s.selectedProfile(), UserEmail: s.email.Text,
		Password: s.password.Text, Confirm: s.confirm.Text}
	s.busy = true
	s.submit.Disable()
	s.submit.SetText("Preparing the session…")
	s.progress.Show()
	s.progress.Start()
	for _, l := range []*widget.Label{s.profileErr, s.seatErr, s.emailErr, s.confirmErr, s.submitErr} {
		setFieldError(l, "")
	}
	s.work.run(jobPrepare, func() func() {
		prep, err := s.st.Prepare(context.Background(), req)
		// Hashing the password took 64 MiB (argon2id); hand it back to the
		// system now rather than keep a station that idles all day at twice
		// its size. One forced collection per prepared session is cheap.
		debug.FreeOSMemory()
		return func() { s.prepared(prep, err) }
	})
}

func (s *adhocScreen) prepared(prep core.Prepared, err error) {
	s.busy = false
	s.progress.Stop()
	s.progress.Hide()
	s.submit.SetText(prepareButtonText)
	if err != nil {
		s.showRefusal(err)
		s.validate()
	} else {
		// The password is in core's keeping now; the form must not hold it.
		s.forgetGenerated()
		s.password.SetText("")
		s.confirm.SetText("")
		s.email.SetText("")
		s.emailTouched = false
		s.validate()
		s.showPanel(prep)
	}
	s.reloadSeats()
}

// showRefusal puts core's refusal next to the field that caused it.
func (s *adhocScreen) showRefusal(err error) {
	text := errorText(err)
	switch {
	case errors.Is(err, core.ErrNoSeat):
		setFieldError(s.seatErr, text)
	case errors.Is(err, core.ErrProfileBusy), errors.Is(err, core.ErrProfileNotFound):
		setFieldError(s.profileErr, text)
	case errors.Is(err, core.ErrInvalidEmail):
		setFieldError(s.emailErr, text)
	case errors.Is(err, core.ErrWeakPassword):
		s.rules.Importance = widget.DangerImportance
		s.rules.SetText(text)
	case errors.Is(err, core.ErrPasswordMismatch):
		setFieldError(s.confirmErr, text)
	default:
		setFieldError(s.submitErr, text)
	}
}

func (s *adhocScreen) showPanel(prep core.Prepared) {
	s.panel = newCodePanel(s, prep)
	s.page.Objects = []fyne.CanvasObject{s.panel.content}
	s.page.Refresh()
	s.win.Canvas().Unfocus()
}

// showForm leaves the code panel; the code is gone from the screen for good.
func (s *adhocScreen) showForm() {
	if s.panel != nil {
		s.panel.close()
		s.panel = nil
	}
	s.page.Objects = []fyne.CanvasObject{s.form}
	s.page.Refresh()
	if s.kiosk {
		if len(s.profiles) > 1 {
			s.profile.ClearSelected()
		}
		s.email.SetText("")
		s.emailTouched = false
		s.validate()
	}
	s.reloadSeats()
	s.win.Canvas().Focus(s.email)
}

// showingCode reports whether a security code is on screen (closing the
// window would lose it).
func (s *adhocScreen) showingCode() bool { return s.panel != nil && s.panel.codeVisible() }

func (s *adhocScreen) reloadProfiles() {
	profiles, err := s.st.Profiles(context.Background())
	if err != nil {
		setFieldError(s.profileErr, errorText(err))
		return
	}
	keep := s.selectedProfile()
	s.profiles = profiles
	opts := make([]string, len(profiles))
	sel := -1
	for i, p := range profiles {
		opts[i] = p.Name + " (" + p.Email + ")"
		if p.ID == keep {
			sel = i
		}
	}
	s.profile.SetOptions(opts)
	if sel < 0 && len(profiles) == 1 {
		sel = 0
	}
	if sel >= 0 {
		s.profile.SetSelectedIndex(sel)
	} else {
		s.profile.ClearSelected()
	}
	if len(profiles) == 0 {
		setFieldError(s.profileErr, "There is no technician profile yet. Click Add profile to create yours.")
	}
}

func (s *adhocScreen) reloadSeats() {
	free, total, err := s.st.Seats(context.Background())
	if err != nil {
		s.seats.SetText(errorText(err))
		return
	}
	s.seats.SetText(fmt.Sprintf("%d of %d seats free", free, total))
	if free > 0 {
		setFieldError(s.seatErr, "")
	}
}

func (s *adhocScreen) onEvent(e core.Event) {
	switch e.Kind {
	case core.EventProfiles:
		s.reloadProfiles()
	case core.EventLagged:
		s.reloadProfiles()
		s.reloadSeats()
	case core.EventPrepared, core.EventCancelled, core.EventExpired, core.EventEnded, core.EventSettings, core.EventPaired:
		s.reloadSeats()
	}
	if s.panel != nil {
		s.panel.onEvent(e)
	}
}

func (s *adhocScreen) onTick(now time.Time) {
	if s.panel != nil {
		s.panel.onTick(now)
	}
}

// onAddProfile asks for a name and an email; a refusal stays in the dialog
// next to the fields so nothing typed is lost.
func (s *adhocScreen) onAddProfile() {
	name := newFormEntry("Your name")
	email := newFormEntry("you@example.com")
	problem := fieldErrorLabel()
	var d *dialog.CustomDialog
	add := func() {
		p, err := s.st.CreateProfile(context.Background(), name.Text, email.Text)
		if err != nil {
			setFieldError(problem, errorText(err))
			return
		}
		d.Hide()
		s.reloadProfiles()
		for i, q := range s.profiles {
			if q.ID == p.ID {
				s.profile.SetSelectedIndex(i)
			}
		}
	}
	name.OnSubmitted = func(string) { s.win.Canvas().Focus(email) }
	email.OnSubmitted = func(string) { add() }
	form := container.New(layout.NewFormLayout(), widget.NewLabel("Name"), name, widget.NewLabel("Email"), email)
	body := container.NewVBox(form, problem)
	cancel := newEscButton("Cancel", func() { d.Hide() })
	addBtn := newEscButton("Add profile", add)
	addBtn.Importance = widget.HighImportance
	d = dialog.NewCustomWithoutButtons("Add a technician profile", body, s.win)
	d.SetButtons([]fyne.CanvasObject{cancel, addBtn})
	// Escape is Cancel's key whatever has focus: each focusable in the
	// dialog takes it (a focused widget gets every key before the window),
	// and the canvas takes it while nothing is focused.
	for _, e := range []*formEntry{name, email} {
		e.onEscape = d.Hide
	}
	for _, b := range []*escButton{cancel, addBtn} {
		b.onEscape = d.Hide
	}
	escapeWhileShown(s.win.Canvas(), d)
	d.Resize(fyne.NewSize(460, 0))
	d.Show()
	s.win.Canvas().Focus(name)
}

// onGeneratePassword fills both password fields with a strong random
// password and shows it in clear, with a copy button, until the session is
// prepared or the technician types their own.
func (s *adhocScreen) onGeneratePassword() {
	addr, _ := core.ParseEmail(s.email.Text)
	var pw string
	var err error
	// A generated password is checked like a typed one; the only rule it can
	// break by chance is containing the user's email name, so a few draws do.
	for range 5 {
		if pw, err = core.GeneratePassword(); err == nil {
			if err = s.st.ValidatePassword(addr, pw); err == nil {
				break
			}
		}
	}
	if err != nil {
		s.forgetGenerated()
		setFieldError(s.submitErr, "No password could be generated. Click Generate password again, or type one yourself.")
		return
	}
	s.password.SetText(pw) // forgets an earlier generated one
	s.confirm.SetText(pw)
	s.generated.SetText(pw)
	s.copyPass.SetIcon(theme.ContentCopyIcon())
	s.copyPass.SetText("Copy password")
	s.genRow.Show()
}

// onCopyPassword puts the generated password on the clipboard; the button
// confirms it. The clipboard is cleared again when the session is prepared.
func (s *adhocScreen) onCopyPassword() {
	fyne.CurrentApp().Clipboard().SetContent(s.generated.Text)
	s.copyPass.SetIcon(theme.ConfirmIcon())
	s.copyPass.SetText("Copied")
}

// forgetGeneratedIfChanged hides the generated password once the fields no
// longer hold it: the technician chose another one.
func (s *adhocScreen) forgetGeneratedIfChanged() {
	if s.generated.Text != "" && (s.password.Text != s.generated.Text || s.confirm.Text != s.generated.Text) {
		s.forgetGenerated()
	}
}

// forgetGenerated takes a generated password off the screen, and off the
// clipboard if it is still there: like a typed one it is shown only once.
func (s *adhocScreen) forgetGenerated() {
	if s.generated.Text == "" {
		return
	}
	if cb := fyne.CurrentApp().Clipboard(); cb.Content() == s.generated.Text {
		cb.SetContent("")
	}
	s.generated.SetText("")
	s.genRow.Hide()
}
