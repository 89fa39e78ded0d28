package ui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/pairing"
)

// Each field's message is shown under it, keyed by the field's name; core's
// SettingError keys (core.Field...) are the names of the fields it checks.
const (
	fieldSeats      = string(core.FieldSeats)
	fieldTimeout    = string(core.FieldInvitationTimeout)
	fieldSMTPHost   = "SMTP server"
	fieldSMTPPort   = string(core.FieldSMTPPort)
	fieldSecurity   = string(core.FieldSMTPSecurity)
	fieldUsername   = string(core.FieldSMTPUsername)
	fieldPassword   = "SMTP password"
	fieldSender     = string(core.FieldSender)
	fieldCAFile     = string(core.FieldCAFile)
	fieldListen     = string(core.FieldListenAddr)
	fieldPublicHost = string(core.FieldPublicHost)
	fieldPublicPort = string(core.FieldPublicPort)
	fieldCert       = string(core.FieldCertificate)
	fieldKey        = "Certificate key"
	fieldTestTo     = "Send a test to"
)

// securityChoices maps what the technician reads to core's values.
var securityChoices = []struct {
	label string
	value core.SMTPSecurity
}{
	{"STARTTLS (port 587)", core.SMTPStartTLS},
	{"TLS (port 465)", core.SMTPTLS},
	{"None (this computer only)", core.SMTPPlain},
}

// settingsScreen is the Settings page: mail server, seats, pairing and
// invitation timeout, checked by core and applied when saved.
type settingsScreen struct {
	st  *core.Station
	win fyne.Window

	saved core.Settings // as last loaded, so fields the page does not show are kept

	entries  map[string]*formEntry
	security *widget.Select
	errs     map[string]*widget.Label
	rows     map[string][]fyne.CanvasObject // each field's label and field, to hide by method

	method       *widget.Select
	methodState  *widget.Label
	clientSecret *formEntry
	secretState  *widget.Label
	keyState     *widget.Label
	certState    *widget.Label

	recordOn *widget.Check // settings_recording.go

	password *formEntry
	pwState  *widget.Label
	pwForget *widget.Button
	save     *widget.Button
	status   *widget.Label
	sendTest *widget.Button
	testOut  *widget.Label
	scroll   *container.Scroll
	form     *fyne.Container
	body     fyne.CanvasObject

	// fingerprint, when the window has a running pairing service, returns
	// the certificate it serves; fpValue shows it.
	fingerprint func() string
	fpValue     *widget.Label
	// applyPairing, when the window has a running pairing service, applies
	// the saved pairing settings to it now and says whether they took.
	applyPairing func() error
	// hubState and hubLabel show the relay hub (hub.go).
	hubState func() pairing.HubState
	// teamState is the station's team (team.go); nil: not shown.
	teamState func() pairing.TeamState
	hubLabel  *widget.Label
	// hubURL and hubCode join a hub with hubJoin (hubClient reaches it;
	// nil: core.HubHTTPClient); hubOut says how it went.
	hubURL, hubCode   *widget.Entry
	hubJoin, hubLeave *widget.Button
	hubLeaveWait      time.Duration // 0: core.HubEndWait (tests shorten it)
	hubOut            *widget.Label
	hubClient         *http.Client
	hub               struct {
		cfg    core.HubConfig
		joined bool
		err    error
	}

	work background
}

func newSettingsScreen(st *core.Station, win fyne.Window) *settingsScreen {
	s := &settingsScreen{st: st, win: win, entries: map[string]*formEntry{}, errs: map[string]*widget.Label{},
		rows: map[string][]fyne.CanvasObject{}}
	for _, f := range []string{fieldSeats, fieldTimeout, fieldSMTPHost, fieldSMTPPort, fieldUsername, fieldSender,
		fieldCAFile, fieldListen, fieldPublicHost, fieldPublicPort, fieldCert, fieldKey, fieldTestTo,
		fieldTenant, fieldClientID, fieldTokenURL, fieldServiceKey, fieldClientCert} {
		e := newFormEntry("")
		e.OnSubmitted = func(string) { s.onSave() }
		s.entries[f] = e
	}
	// Enter saves; in the test recipient's field it sends the test.
	s.entries[fieldTestTo].OnSubmitted = func(string) { s.onSendTest() }
	s.entries[fieldSMTPHost].PlaceHolder = "smtp.example.com (empty: invitations are not emailed)"
	s.entries[fieldCAFile].PlaceHolder = "optional: PEM file of an in-house certificate authority"
	s.entries[fieldPublicHost].PlaceHolder = "support.example.com"
	s.entries[fieldPublicPort].PlaceHolder = "empty: the listen port"
	s.entries[fieldCert].PlaceHolder = "optional: PEM certificate for the deployment link"
	s.entries[fieldKey].PlaceHolder = "its key (PEM)"
	s.entries[fieldTestTo].PlaceHolder = "you@example.com"
	var labels []string
	for _, c := range securityChoices {
		labels = append(labels, c.label)
	}
	s.security = widget.NewSelect(labels, nil)
	s.password = newFormPasswordEntry("")
	s.password.OnSubmitted = func(string) { s.onSave() }
	s.pwState = &widget.Label{}
	s.pwForget = &widget.Button{Text: "Forget password", Icon: theme.DeleteIcon(), OnTapped: s.onForgetPassword}
	s.pwForget.Hide()
	s.save = &widget.Button{Text: "Save", Icon: theme.DocumentSaveIcon(), Importance: widget.HighImportance, OnTapped: s.onSave}
	s.status = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.sendTest = &widget.Button{Text: "Send test email", Icon: theme.MailSendIcon(), OnTapped: s.onSendTest}
	s.testOut = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.testOut.Hide()
	s.buildSignIn()
	s.buildRecording()
	s.body = s.layout()
	s.load()
	return s
}

func (s *settingsScreen) content() fyne.CanvasObject { return s.body }

func (s *settingsScreen) layout() fyne.CanvasObject {
	s.form = container.New(layout.NewFormLayout(), slices.Concat(
		s.heading("Email (SMTP)", "Invitations are sent through this server."),
		s.row(fieldSMTPHost, s.entries[fieldSMTPHost]),
		s.row(fieldSMTPPort, s.entries[fieldSMTPPort]),
		s.row(fieldSecurity, s.security),
		s.row(fieldMethod, container.NewVBox(s.method, s.methodState)),
		s.row(fieldUsername, s.entries[fieldUsername]),
		s.row(fieldPassword, container.NewVBox(s.password, container.NewBorder(nil, nil, nil, s.pwForget, s.pwState))),
		s.row(fieldTenant, s.entries[fieldTenant]),
		s.row(fieldClientID, s.entries[fieldClientID]),
		s.row(fieldClientSecret, container.NewVBox(s.clientSecret, s.secretState)),
		s.row(fieldClientCert, container.NewVBox(s.entries[fieldClientCert], s.certState)),
		s.row(fieldTokenURL, s.entries[fieldTokenURL]),
		s.row(fieldServiceKey, container.NewVBox(s.entries[fieldServiceKey], s.keyState)),
		s.row(fieldSender, s.entries[fieldSender]),
		s.row(fieldCAFile, s.entries[fieldCAFile]),
		s.row(fieldTestTo, container.NewVBox(container.NewBorder(nil, nil, nil, s.sendTest, s.entries[fieldTestTo]), s.testOut)),
		s.heading("Sessions", "Every prepared or active session takes a seat."),
		s.row(fieldSeats, s.entries[fieldSeats]),
		s.row(fieldTimeout+" (minutes)", s.entries[fieldTimeout]),
		s.recordingRows(),
		s.heading("Pairing", "Where the Support Session app reaches this station. The deployment link uses the public host name and port."),
		s.row(fieldListen, s.entries[fieldListen]),
		s.row(fieldPublicHost, s.entries[fieldPublicHost]),
		s.row(fieldPublicPort, s.entries[fieldPublicPort]),
		s.row(fieldCert, s.entries[fieldCert]),
		s.row(fieldKey, s.entries[fieldKey]),
	)...)
	s.scroll = container.NewVScroll(container.NewPadded(s.form))
	for _, e := range s.entries {
		e.scroll = s.scroll
	}
	s.password.scroll, s.clientSecret.scroll = s.scroll, s.scroll
	bottom := container.NewVBox(widget.NewSeparator(), container.NewBorder(nil, nil, nil, s.save, s.status))
	return container.NewBorder(nil, bottom, nil, nil, withPageWheel(s.scroll))
}

// showFingerprint adds the served certificate's fingerprint to the pairing
// group, so the technician can read it to a user who checks the browser's
// warning on the deployment page (the page shows the same value).
func (s *settingsScreen) showFingerprint(get func() string) {
	s.fingerprint = get
	s.fpValue = &widget.Label{TextStyle: fyne.TextStyle{Monospace: true}, Wrapping: fyne.TextWrapBreak}
	note := &widget.Label{Text: "SHA-256 of the certificate the deployment page is served with; the page shows the same value.",
		Wrapping: fyne.TextWrapWord}
	s.form.Objects = append(s.form.Objects, widget.NewLabel("Certificate fingerprint"), container.NewVBox(s.fpValue, note))
	s.form.Refresh()
	s.onTick(time.Time{})
}

// onTick follows a certificate change: the pairing service applies saved
// settings on its own goroutine, after this page has reloaded.
func (s *settingsScreen) onTick(time.Time) {
	s.refreshHub()
	if s.fingerprint == nil {
		return
	}
	if fp := s.fingerprint(); fp != s.fpValue.Text {
		s.fpValue.SetText(fp)
	}
}

// heading starts a group of fields: one form layout holds every group so
// their fields line up.
func (s *settingsScreen) heading(title, note string) []fyne.CanvasObject {
	return []fyne.CanvasObject{
		titleLabel(title),
		&widget.Label{Text: note, Wrapping: fyne.TextWrapWord},
	}
}

// row is a label and its field with the field's message under it. The
// message label is keyed by the field's name without any unit suffix.
func (s *settingsScreen) row(label string, field fyne.CanvasObject) []fyne.CanvasObject {
	key, _, _ := strings.Cut(label, " (")
	msg := &widget.Label{Importance: widget.DangerImportance, Wrapping: fyne.TextWrapWord}
	msg.Hide()
	s.errs[key] = msg
	s.rows[key] = []fyne.CanvasObject{widget.NewLabel(label), container.NewVBox(field, msg)}
	return s.rows[key]
}

// onEvent reloads when settings were saved here or elsewhere (the CLI),
// unless the technician is in the middle of editing: their edits stay, and
// the newly saved values become the base for what the page does not show.
func (s *settingsScreen) onEvent(e core.Event) {
	if e.Kind != core.EventSettings && e.Kind != core.EventLagged {
		return
	}
	s.loadHub()
	if !s.unsaved() {
		s.load()
		return
	}
	if set, err := s.st.Settings(context.Background()); err == nil {
		s.saved = set.FollowListenPort() // the next save stores an old 8443 as "the listen port"
	}
	s.setStatus("Settings were just saved elsewhere (another window or the command line). Your unsaved changes "+
		"are kept here; Save applies them over the others.", widget.MediumImportance)
}

// unsaved reports whether the form differs from the settings last loaded.
func (s *settingsScreen) unsaved() bool {
	set, bad := s.read()
	return len(bad) > 0 || set != s.saved || s.password.Text != "" || s.signInUnsaved()
}

// load shows the saved settings. The SMTP password is never shown back.
func (s *settingsScreen) load() {
	ctx := context.Background()
	set, err := s.st.Settings(ctx)
	if err != nil {
		s.setStatus(errorText(err), widget.DangerImportance)
		return
	}
	s.saved = set.FollowListenPort() // the next save stores an old 8443 as "the listen port"
	s.entries[fieldSeats].SetText(strconv.Itoa(set.Seats))
	s.entries[fieldTimeout].SetText(strconv.Itoa(int(set.InvitationTimeout / time.Minute)))
	s.entries[fieldSMTPHost].SetText(set.SMTP.Host)
	s.entries[fieldSMTPPort].SetText(strconv.Itoa(set.SMTP.Port))
	s.entries[fieldUsername].SetText(set.SMTP.Username)
	s.entries[fieldSender].SetText(set.SMTP.Sender)
	s.entries[fieldCAFile].SetText(set.SMTP.CAFile)
	s.entries[fieldListen].SetText(set.Pairing.ListenAddr)
	s.entries[fieldPublicHost].SetText(set.Pairing.PublicHost)
	s.entries[fieldPublicPort].SetText(portText(s.saved.Pairing.PublicPort))
	s.entries[fieldCert].SetText(set.Pairing.CertFile)
	s.entries[fieldKey].SetText(set.Pairing.KeyFile)
	s.security.SetSelected(securityLabel(set.SMTP.Security))
	s.password.SetText("")
	if s.st.HasSMTPPassword(ctx) {
		s.password.SetPlaceHolder("type a new password to replace it")
		s.pwState.SetText("A password is stored; it is never shown.")
		s.pwForget.Show()
	} else {
		s.password.SetPlaceHolder("")
		s.pwState.SetText("No password is stored.")
		s.pwForget.Hide()
	}
	s.loadSignIn(ctx, set)
	s.loadRecording(set)
}

func portText(p int) string {
	if p == 0 {
		return ""
	}
	return strconv.Itoa(p)
}

func securityLabel(v core.SMTPSecurity) string {
	for _, c := range securityChoices {
		if c.value == v {
			return c.label
		}
	}
	return securityChoices[0].label
}

// read builds settings from the form over the saved ones. Numbers that do
// not parse are reported per field before core sees them.
func (s *settingsScreen) read() (core.Settings, map[string]string) {
	set := s.saved
	bad := map[string]string{}
	num := func(field string, optional bool, why string) int {
		text := strings.TrimSpace(s.entries[field].Text)
		if text == "" && optional {
			return 0
		}
		n, err := strconv.Atoi(text)
		if err != nil {
			bad[field] = why
		}
		return n
	}
	text := func(field string) string { return strings.TrimSpace(s.entries[field].Text) }
	set.Seats = num(fieldSeats, false, "Enter a whole number of seats, e.g. 5.")
	set.InvitationTimeout = time.Duration(num(fieldTimeout, false, "Enter the timeout in whole minutes, e.g. 60.")) * time.Minute
	set.SMTP.Host = text(fieldSMTPHost)
	set.SMTP.Port = num(fieldSMTPPort, set.SMTP.Host == "", "Enter the port as a number, e.g. 587.")
	if set.SMTP.Port == 0 && set.SMTP.Host == "" {
		set.SMTP.Port = s.saved.SMTP.Port // an unused blank port keeps the saved one
	}
	for _, c := range securityChoices {
		if c.label == s.security.Selected {
			set.SMTP.Security = c.value
		}
	}
	set.SMTP.Username = text(fieldUsername)
	s.readSignIn(&set, text)
	set.SMTP.Sender = text(fieldSender)
	set.SMTP.CAFile = text(fieldCAFile)
	set.Pairing.ListenAddr = text(fieldListen)
	set.Pairing.PublicHost = text(fieldPublicHost)
	set.Pairing.PublicPort = num(fieldPublicPort, true, "Enter the port as a number, or leave it empty to use the listen port.")
	set.Pairing.CertFile = text(fieldCert)
	set.Pairing.KeyFile = text(fieldKey)
	s.readRecording(&set, bad)
	return set, bad
}

// validate returns the form's settings and every refused field's message,
// from one validation by core: a number that does not parse keeps the
// form's own message, which says more than core's range.
func (s *settingsScreen) validate() (core.Settings, map[string]string) {
	set, bad := s.read()
	addSettingErrors(bad, core.ValidateSettings(set))
	return set, bad
}

// addSettingErrors adds each field core refused in err to bad, unless the
// form already has a message for it.
func addSettingErrors(bad map[string]string, err error) {
	for _, se := range core.SettingErrors(err) {
		if _, ok := bad[string(se.Field)]; !ok {
			bad[string(se.Field)] = se.Reason
		}
	}
}

func (s *settingsScreen) showFieldErrors(bad map[string]string) {
	for field, l := range s.errs {
		if msg, ok := bad[field]; ok {
			l.SetText(msg)
			l.Show()
		} else if l.Visible() {
			l.Hide()
		}
	}
	// A message changes its row's height: lay the form out again.
	s.scroll.Refresh()
}

func (s *settingsScreen) onSave() {
	if s.saveNow() {
		s.setStatus("Saved — applied now.", widget.MediumImportance)
	}
}

// saveNow validates, stores the settings and a new SMTP password, and
// reports whether everything was saved.
func (s *settingsScreen) saveNow() bool {
	ctx := context.Background()
	set, bad := s.validate()
	s.checkSecrets(ctx, set, bad)
	s.showFieldErrors(bad)
	if len(bad) > 0 {
		s.setStatus("Not saved: correct the "+plural(len(bad), "field", "fields")+" marked in red.", widget.DangerImportance)
		return false
	}
	if pw := s.password.Text; pw != "" {
		if err := s.st.SetSMTPPassword(ctx, pw); err != nil {
			s.showFieldErrors(map[string]string{fieldPassword: errorText(err)})
			s.setStatus("Not saved: the SMTP password could not be stored.", widget.DangerImportance)
			return false
		}
	}
	if !s.storeSecrets(ctx, set) {
		return false
	}
	served := s.saved.Pairing.ListenAddr
	if err := s.st.SaveSettings(ctx, set); err != nil {
		bad := map[string]string{}
		addSettingErrors(bad, err)
		s.showFieldErrors(bad)
		s.setStatus("Not saved. "+errorText(err), widget.DangerImportance)
		return false
	}
	if !s.applied(ctx, set, served) {
		return false
	}
	// EventSettings reloads the page too; loading now shows the stored
	// password's state even if this window's feed is behind.
	s.load()
	return true
}

// applied has the running pairing service take the saved settings, and
// reports whether it did. A pairing address that cannot be opened is saved
// back to the one still served, so deployment links keep naming a port the
// station listens on, and the field says why.
func (s *settingsScreen) applied(ctx context.Context, set core.Settings, served string) bool {
	if s.applyPairing == nil {
		return true
	}
	err := s.applyPairing()
	if err == nil {
		return true
	}
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Code != "pairing_listen" {
		s.load()
		s.setStatus("Saved, but the pairing service keeps its previous certificate. "+errorText(err), widget.DangerImportance)
		return false
	}
	set.Pairing.ListenAddr = served
	if rerr := s.st.SaveSettings(ctx, set); rerr != nil {
		slog.Error("could not set the pairing address back to the one served", "addr", served, "err", rerr)
	}
	s.load()
	s.showFieldErrors(map[string]string{fieldListen: errorText(err)})
	s.setStatus("Saved, except the pairing address: "+errorText(err), widget.DangerImportance)
	return false
}

// onForgetPassword removes the stored SMTP password after a confirmation,
// e.g. when the mail account is retired or the station changes hands.
func (s *settingsScreen) onForgetPassword() {
	dialog.ShowConfirm("Forget the SMTP password?",
		"The station will no longer sign in to the mail server until a new password is saved.",
		func(ok bool) {
			if !ok {
				return
			}
			if err := s.st.SetSMTPPassword(context.Background(), ""); err != nil {
				s.setStatus(errorText(err), widget.DangerImportance)
				return
			}
			s.load()
			s.setStatus("The SMTP password is forgotten.", widget.MediumImportance)
		}, s.win)
}

func (s *settingsScreen) setStatus(text string, imp widget.Importance) {
	s.status.Importance = imp
	s.status.SetText(text)
}

// onSendTest saves the form, then sends a test message in the background:
// a slow or unreachable server must not freeze the window.
func (s *settingsScreen) onSendTest() {
	to := strings.TrimSpace(s.entries[fieldTestTo].Text)
	if _, err := core.ParseEmail(to); err != nil {
		s.showFieldErrors(map[string]string{fieldTestTo: errorText(err)})
		return
	}
	if !s.saveNow() {
		return
	}
	s.setStatus("Saved — applied now.", widget.MediumImportance)
	s.sendTest.Disable()
	s.testOut.Importance = widget.MediumImportance
	s.testOut.SetText("Sending a test email to " + to + "…")
	s.testOut.Show()
	s.scroll.Refresh()
	s.work.run(jobTestEmail, func() func() {
		err := s.st.SendTestEmail(context.Background(), to)
		return func() {
			s.sendTest.Enable()
			if err != nil {
				s.testOut.Importance = widget.DangerImportance
				s.testOut.SetText("The test email was not sent. " + errorText(err))
				// A refused secret or field is also marked where it is corrected.
				bad := map[string]string{}
				addSettingErrors(bad, err)
				if len(bad) > 0 {
					s.showFieldErrors(bad)
				}
			} else {
				s.testOut.Importance = widget.MediumImportance
				s.testOut.SetText("The test email to " + to + " was accepted by the server. Check that it arrives.")
			}
		}
	})
}
