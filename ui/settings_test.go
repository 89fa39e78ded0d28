package ui

import (
	"maps"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/mail/mailtest"
	"adhocstation/core/pairing"
)

func pagesTestSettings(t *testing.T, st *core.Station) *settingsScreen {
	t.Helper()
	w := testWindow(t)
	s := newSettingsScreen(st, w)
	w.SetContent(s.content())
	return s
}

// pagesTestShownErrors lists the fields whose message is on screen.
func pagesTestShownErrors(s *settingsScreen) map[string]string {
	out := map[string]string{}
	for f, l := range s.errs {
		if l.Visible() {
			out[f] = l.Text
		}
	}
	return out
}

// pagesTestMail fills in a valid mail server, so SMTP cases test one field.
func pagesTestMail(s *settingsScreen) {
	s.entries[fieldSMTPHost].SetText("smtp.example.com")
	s.entries[fieldSender].SetText("support@example.com")
}

func TestSettingsShowsEachRefusalNextToItsField(t *testing.T) {
	cases := []struct {
		name, field, value, want string
		mail                     bool
	}{
		{"SeatsZero", fieldSeats, "0", "between 1 and 1000", false},
		{"SeatsNotANumber", fieldSeats, "five", "whole number of seats", false},
		{"TimeoutTooShort", fieldTimeout, "2", "between 5 minutes and 24 hours", false},
		{"SMTPPort", fieldSMTPPort, "70000", "port between 1 and 65535", true},
		{"Sender", fieldSender, "support", "address invitations are sent from", true},
		{"CAFile", fieldCAFile, "/nonexistent/ca.pem", "cannot be read", true},
		{"PairingAddress", fieldListen, "8443", "host:port", false},
		{"PublicHost", fieldPublicHost, "https://support.example.com", "without https://", false},
		{"PublicPort", fieldPublicPort, "99999", "between 1 and 65535", false},
		{"CertificateWithoutKey", fieldCert, "/etc/hostname", "both the certificate file and its key", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := coretest.Open(t)
			s := pagesTestSettings(t, st)
			if tc.mail {
				pagesTestMail(s)
			}
			s.entries[tc.field].SetText(tc.value)
			test.Tap(s.save)
			shown := pagesTestShownErrors(s)
			if len(shown) != 1 || !strings.Contains(shown[tc.field], tc.want) {
				t.Fatalf("messages shown %q, want only %s: …%s…", shown, tc.field, tc.want)
			}
			if !strings.HasPrefix(s.status.Text, "Not saved") {
				t.Fatalf("status %q", s.status.Text)
			}
			if got, _ := st.Settings(t.Context()); got != core.DefaultSettings() {
				t.Fatalf("refused settings were saved: %+v", got)
			}
		})
	}
	t.Run("SMTPSecurityNoneToARemoteServer", func(t *testing.T) {
		st, _ := coretest.Open(t)
		s := pagesTestSettings(t, st)
		pagesTestMail(s)
		s.security.SetSelected(securityLabel(core.SMTPPlain))
		test.Tap(s.save)
		if shown := pagesTestShownErrors(s); len(shown) != 1 || !strings.Contains(shown[fieldSecurity], "Unencrypted SMTP is allowed only") {
			t.Fatalf("messages shown %q", shown)
		}
	})
}

// One Save reports every refused field, not only the first core finds.
func TestSettingsShowsAllRefusalsAtOnce(t *testing.T) {
	st, _ := coretest.Open(t)
	s := pagesTestSettings(t, st)
	s.entries[fieldSeats].SetText("0")
	s.entries[fieldSMTPHost].SetText("smtp.example.com")
	s.entries[fieldSender].SetText("nobody")
	s.entries[fieldPublicHost].SetText("")
	test.Tap(s.save)
	shown := pagesTestShownErrors(s)
	for _, f := range []string{fieldSeats, fieldSender, fieldPublicHost} {
		if shown[f] == "" {
			t.Errorf("no message next to %s (shown: %q)", f, shown)
		}
	}
	if len(shown) != 3 || s.status.Text != "Not saved: correct the 3 fields marked in red." {
		t.Fatalf("shown %q, status %q", shown, s.status.Text)
	}

	// Correcting the fields clears their messages.
	s.entries[fieldSeats].SetText("5")
	s.entries[fieldSender].SetText("support@example.com")
	s.entries[fieldPublicHost].SetText("support.example.com")
	s.entries[fieldPublicHost].TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Enter saves
	if shown := pagesTestShownErrors(s); len(shown) != 0 || s.status.Text != "Saved — applied now." {
		t.Fatalf("after correcting: shown %q, status %q", shown, s.status.Text)
	}
}

// With every field wrong, one Save shows each field's own refusal beside
// it, worded as core words it, and saves nothing.
func TestSettingsShowsEveryFieldsRefusal(t *testing.T) {
	st, _ := coretest.Open(t)
	s := pagesTestSettings(t, st)
	for field, value := range map[string]string{
		fieldSeats: "0", fieldTimeout: "2", fieldSMTPHost: "smtp.example.com", fieldSMTPPort: "70000",
		fieldSender: "nobody", fieldCAFile: "/nonexistent/ca.pem", fieldListen: "8443",
		fieldPublicHost: "https://support.example.com", fieldPublicPort: "99999", fieldCert: "/etc/hostname",
	} {
		s.entries[field].SetText(value)
	}
	s.security.SetSelected(securityLabel(core.SMTPPlain)) // refused: the server is not this computer
	test.Tap(s.save)

	set, _ := s.read()
	want := map[string]string{}
	for _, se := range core.SettingErrors(core.ValidateSettings(set)) {
		want[string(se.Field)] = se.Reason
	}
	if len(want) != 10 {
		t.Fatalf("core refuses %d fields, want all 10: %q", len(want), want)
	}
	if shown := pagesTestShownErrors(s); !maps.Equal(shown, want) {
		t.Errorf("shown %q\nwant  %q", shown, want)
	}
	if s.status.Text != "Not saved: correct the 10 fields marked in red." {
		t.Errorf("status %q", s.status.Text)
	}
	if saved, _ := st.Settings(t.Context()); saved != core.DefaultSettings() {
		t.Errorf("refused settings were saved: %+v", saved)
	}
}

func TestSettingsSavePersistsAndPublishes(t *testing.T) {
	dir := t.TempDir()
	clock := coretest.NewClock(coretest.Start)
	st := coretest.OpenWith(t, dir, clock, nil)
	sub := st.Subscribe()
	defer sub.Close()
	s := pagesTestSettings(t, st)

	pagesTestMail(s)
	s.entries[fieldSMTPPort].SetText("465")
	s.security.SetSelected(securityLabel(core.SMTPTLS))
	s.entries[fieldUsername].SetText("station")
	test.Type(s.password, "app-password-1")
	s.entries[fieldSeats].SetText("7")
	s.entries[fieldTimeout].SetText("30")
	s.entries[fieldListen].SetText(":9443")
	s.entries[fieldPublicHost].SetText("support.example.com")
	s.entries[fieldPublicPort].SetText("443")
	test.Tap(s.save)
	if s.status.Text != "Saved — applied now." {
		t.Fatalf("status %q, messages %q", s.status.Text, pagesTestShownErrors(s))
	}
	deliverUntil(t, sub, s.onEvent, core.EventSettings)
	if s.password.Text != "" {
		t.Fatal("the SMTP password is still in its field after saving")
	}
	wantPW := "No password is stored."
	if st.HasSMTPPassword(t.Context()) {
		wantPW = "A password is stored; it is never shown."
	}
	if s.pwState.Text != wantPW {
		t.Fatalf("password state %q, want %q", s.pwState.Text, wantPW)
	}

	want := core.DefaultSettings()
	want.Seats, want.InvitationTimeout = 7, 30*time.Minute
	want.SMTP = core.SMTPSettings{Host: "smtp.example.com", Port: 465, Security: core.SMTPTLS, Username: "station",
		Sender: "support@example.com"}
	want.Pairing.ListenAddr, want.Pairing.PublicHost, want.Pairing.PublicPort = ":9443", "support.example.com", 443
	st.Close()
	reopened := coretest.OpenWith(t, dir, clock, nil)
	if got, err := reopened.Settings(t.Context()); err != nil || got != want {
		t.Fatalf("after reopening: %+v, %v\nwant %+v", got, err, want)
	}
	again := pagesTestSettings(t, reopened)
	if again.entries[fieldSeats].Text != "7" || again.entries[fieldTimeout].Text != "30" ||
		again.security.Selected != securityLabel(core.SMTPTLS) {
		t.Fatalf("reopened page shows seats %q, timeout %q, security %q", again.entries[fieldSeats].Text,
			again.entries[fieldTimeout].Text, again.security.Selected)
	}
}

// Settings saved elsewhere (the command line) appear without a restart.
func TestSettingsReloadOnEvent(t *testing.T) {
	st, _ := coretest.Open(t)
	sub := st.Subscribe()
	defer sub.Close()
	s := pagesTestSettings(t, st)
	set := core.DefaultSettings()
	set.Seats = 9
	if err := st.SaveSettings(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	deliverUntil(t, sub, s.onEvent, core.EventSettings)
	if s.entries[fieldSeats].Text != "9" {
		t.Fatalf("seats shows %q after another writer saved 9", s.entries[fieldSeats].Text)
	}
}

func TestSettingsSendTestEmail(t *testing.T) {
	st, _ := coretest.Open(t)
	s := pagesTestSettings(t, st)

	test.Type(s.entries[fieldTestTo], "not an address")
	test.Tap(s.sendTest)
	if msg := pagesTestShownErrors(s)[fieldTestTo]; !strings.Contains(msg, "not a valid email address") {
		t.Fatalf("bad recipient: %q", msg)
	}

	// A local port nobody listens on: the server's refusal must be shown.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.entries[fieldSMTPHost].SetText("127.0.0.1")
	s.entries[fieldSMTPPort].SetText(strconv.Itoa(port))
	s.security.SetSelected(securityLabel(core.SMTPPlain))
	s.entries[fieldSender].SetText("station@example.com")
	s.entries[fieldTestTo].SetText("me@example.com")
	watchWork(&s.work).during(t, jobTestEmail, func() { test.Tap(s.sendTest) })
	if !strings.HasPrefix(s.testOut.Text, "The test email was not sent.") || s.sendTest.Disabled() {
		t.Fatalf("after a refused test email: %q (button disabled %v)", s.testOut.Text, s.sendTest.Disabled())
	}
	if got, _ := st.Settings(t.Context()); got.SMTP.Host != "127.0.0.1" {
		t.Fatalf("the form was not saved before the test: %+v", got.SMTP)
	}
}

func TestSettingsGolden(t *testing.T) {
	st, _ := coretest.Open(t)
	s := pagesTestSettings(t, st)
	s.win.Resize(s.win.Canvas().Size().AddWidthHeight(0, 500))
	s.entries[fieldSeats].SetText("0")
	s.entries[fieldPublicHost].SetText("")
	test.Tap(s.save)
	test.AssertRendersToMarkup(t, "settings_refused.xml", s.win.Canvas())
	test.AssertRendersToImage(t, "settings_refused.png", s.win.Canvas())
}

// The whole mail group against a real SMTP server on 127.0.0.1: STARTTLS
// with a self-signed certificate trusted through the extra CA file, AUTH
// with the password typed into the page.
func TestSettingsSendTestEmailThroughARealServer(t *testing.T) {
	srv := mailtest.Start(t, mailtest.StartTLS)
	st, _ := coretest.Open(t)
	s := pagesTestSettings(t, st)
	s.entries[fieldSMTPHost].SetText(srv.Host)
	s.entries[fieldSMTPPort].SetText(strconv.Itoa(srv.Port))
	s.security.SetSelected(securityLabel(core.SMTPStartTLS))
	s.entries[fieldUsername].SetText(mailtest.Username)
	test.Type(s.password, mailtest.Password)
	s.entries[fieldSender].SetText("station@example.com")
	s.entries[fieldCAFile].SetText(srv.CAFile)
	test.Type(s.entries[fieldTestTo], "me@example.com")
	watchWork(&s.work).during(t, jobTestEmail, func() { test.Tap(s.sendTest) })
	if s.testOut.Text != "The test email to me@example.com was accepted by the server. Check that it arrives." {
		t.Fatalf("test email: %q; fields %q", s.testOut.Text, pagesTestShownErrors(s))
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "me@example.com" || msgs[0].AuthUser != mailtest.Username || !msgs[0].TLS {
		t.Fatalf("server received %+v", msgs)
	}
	if s.password.Text != "" || !st.HasSMTPPassword(t.Context()) || s.pwState.Text != "A password is stored; it is never shown." {
		t.Fatalf("after saving the password: field %q, stored %v, note %q", s.password.Text, st.HasSMTPPassword(t.Context()), s.pwState.Text)
	}
}

// A stored SMTP password can be forgotten, after a confirmation; "No"
// keeps it.
func TestSettingsForgetPassword(t *testing.T) {
	t.Setenv(core.KeyringEnv, "off")
	st, _ := coretest.Open(t)
	if err := st.SetSMTPPassword(t.Context(), "mail-secret-123"); err != nil {
		t.Fatal(err)
	}
	s := pagesTestSettings(t, st)
	if !s.pwForget.Visible() {
		t.Fatal("no Forget password button while a password is stored")
	}
	for _, answer := range []string{"No", "Yes"} {
		test.Tap(s.pwForget)
		top := s.win.Canvas().Overlays().Top()
		if top == nil {
			t.Fatal("forgetting did not ask first")
		}
		test.Tap(findButton(t, top, answer))
		if stored := st.HasSMTPPassword(t.Context()); stored != (answer == "No") {
			t.Fatalf("after %q the password is stored: %v", answer, stored)
		}
	}
	if s.pwForget.Visible() || s.pwState.Text != "No password is stored." {
		t.Errorf("after forgetting: button visible %v, state %q", s.pwForget.Visible(), s.pwState.Text)
	}
}

// Settings saved elsewhere while the technician edits do not wipe the
// edits; without edits the page shows the new values.
func TestSettingsKeepsEditsWhenSavedElsewhere(t *testing.T) {
	st, _ := coretest.Open(t)
	s := pagesTestSettings(t, st)
	saveElsewhere := func(seats int, host string) {
		t.Helper()
		set, _ := st.Settings(t.Context())
		set.Seats, set.Pairing.PublicHost = seats, host
		if err := st.SaveSettings(t.Context(), set); err != nil {
			t.Fatal(err)
		}
		s.onEvent(core.Event{Kind: core.EventSettings})
	}
	saveElsewhere(3, "station.example.com")
	if s.entries[fieldSeats].Text != "3" || s.entries[fieldPublicHost].Text != "station.example.com" {
		t.Fatalf("without edits the page shows seats %q, host %q", s.entries[fieldSeats].Text, s.entries[fieldPublicHost].Text)
	}
	s.entries[fieldSeats].SetText("7")
	saveElsewhere(4, "support.example.com")
	if s.entries[fieldSeats].Text != "7" || !strings.Contains(s.status.Text, "saved elsewhere") {
		t.Fatalf("the edit was lost: seats %q, status %q", s.entries[fieldSeats].Text, s.status.Text)
	}
	s.onSave()
	set, _ := st.Settings(t.Context())
	if set.Seats != 7 {
		t.Errorf("saved seats = %d, want the technician's 7", set.Seats)
	}
}

// settingsTestFreeAddr is a loopback address with a port nobody listens on
// as the test starts.
func settingsTestFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestSettingsPairingPortInUse: a pairing address held by another program
// is not reported as applied; the running listener stays, the saved address
// goes back to it (so links name a port that is served), and the field says
// what failed. A free address then moves the listener and is applied.
func TestSettingsPairingPortInUse(t *testing.T) {
	st, _ := coretest.Open(t)
	set, _ := st.Settings(t.Context())
	set.Pairing.ListenAddr = settingsTestFreeAddr(t)
	if err := st.SaveSettings(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	srv, err := pairing.Start(t.Context(), st, pairing.Options{AgentExe: []byte("MZ")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	served := srv.Addr().String()

	held, err := net.Listen("tcp", "127.0.0.1:0") // another program's port
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	s := pagesTestSettings(t, st)
	s.applyPairing = func() error { return srv.Apply(t.Context()) }
	s.entries[fieldListen].SetText(held.Addr().String())
	test.Tap(s.save)
	if strings.Contains(s.status.Text, "applied now") || !strings.Contains(s.status.Text, "cannot listen on "+held.Addr().String()) {
		t.Errorf("status %q, want it to say the pairing address could not be opened", s.status.Text)
	}
	if msg := pagesTestShownErrors(s)[fieldListen]; !strings.Contains(msg, "keeps listening on "+served) {
		t.Errorf("the pairing address's message is %q, want it to name the address still served, %s", msg, served)
	}
	if got := srv.Addr().String(); got != served {
		t.Errorf("the pairing service moved to %s; it must keep %s", got, served)
	}
	if got, _ := st.Settings(t.Context()); got.Pairing.ListenAddr != served {
		t.Errorf("saved pairing address %q, want the one still served, %s", got.Pairing.ListenAddr, served)
	}
	link, _ := st.Link(t.Context(), "tok")
	if _, port, _ := net.SplitHostPort(served); !strings.Contains(link, ":"+port+"/") {
		t.Errorf("link %s does not name the port served, %s", link, port)
	}

	free := settingsTestFreeAddr(t)
	s.entries[fieldListen].SetText(free)
	test.Tap(s.save)
	if s.status.Text != "Saved — applied now." || srv.Addr().String() != free {
		t.Errorf("status %q, listening on %s; want applied, on %s", s.status.Text, srv.Addr(), free)
	}
}

// TestSettingsPublicPortFollowsListenPort: a fresh station has no public
// port (the field's hint says "empty: the listen port"), nor does one whose
// older default saved 8443 beside :8443; changing only the pairing address
// moves the links to the new port.
func TestSettingsPublicPortFollowsListenPort(t *testing.T) {
	for _, old := range []bool{false, true} {
		t.Run(map[bool]string{false: "Fresh", true: "SavedBefore"}[old], func(t *testing.T) {
			st, _ := coretest.Open(t)
			if old {
				set, _ := st.Settings(t.Context())
				set.Pairing.PublicPort = 8443 // what stations saved before
				if err := st.SaveSettings(t.Context(), set); err != nil {
					t.Fatal(err)
				}
			}
			s := pagesTestSettings(t, st)
			if got := s.entries[fieldPublicPort].Text; got != "" {
				t.Errorf("public port %q at first start, want it empty (the listen port)", got)
			}
			if s.unsaved() {
				t.Error("the page reports unsaved changes before any edit")
			}
			s.entries[fieldListen].SetText(":9443")
			test.Tap(s.save)
			link, err := st.Link(t.Context(), "tok")
			if err != nil || !strings.Contains(link, ":9443/join/tok") {
				t.Errorf("after changing only the pairing address the link is %s (%v), want it on :9443", link, err)
			}
		})
	}
}

// TestSettingsKeyboardAndWheel: at 800×600 Tab onto the last field scrolls
// it into view, and the wheel scrolls the page while the pointer is over a
// field (the entry kept it before).
func TestSettingsKeyboardAndWheel(t *testing.T) {
	st, _ := coretest.Open(t)
	s := pagesTestSettings(t, st)
	s.win.Resize(fyne.NewSize(800, 600))
	c := s.win.Canvas()
	last := s.entries[fieldKey]
	c.Focus(s.entries[fieldSeats])
	for i := 0; i < 60 && c.Focused() != last; i++ {
		c.FocusNext()
	}
	if c.Focused() != last {
		t.Fatal("Tab never reached the certificate key's field")
	}
	d := fyne.CurrentApp().Driver()
	top := d.AbsolutePositionForObject(last).Y - d.AbsolutePositionForObject(s.scroll).Y
	if top < 0 || top+last.Size().Height > s.scroll.Size().Height {
		t.Errorf("the focused field is at %.0f..%.0f, outside the page's view (0..%.0f)", top, top+last.Size().Height, s.scroll.Size().Height)
	}

	s.scroll.ScrollToTop()
	over := d.AbsolutePositionForObject(s.entries[fieldSMTPHost]).Add(fyne.NewPos(20, 10))
	test.Scroll(c, over, 0, -120)
	if s.scroll.Offset.Y <= 0 {
		t.Error("the wheel over a field did not scroll the page")
	}
}

// TestSettingsTabScrollsPasswords: at 800×600 Tab onto the SMTP password
// and the client secret scrolls them into view, as it does for the other
// fields, and their show/hide buttons still work.
func TestSettingsTabScrollsPasswords(t *testing.T) {
	st, _ := coretest.Open(t)
	s := pagesTestSettings(t, st)
	s.win.Resize(fyne.NewSize(800, 600))
	c := s.win.Canvas()
	tabScrollsIntoView(t, c, s.scroll, s.entries[fieldUsername], s.password)
	s.method.SetSelected(methodLabel(core.SMTPAuthMicrosoft))
	tabScrollsIntoView(t, c, s.scroll, s.entries[fieldClientID], s.clientSecret)
	for _, f := range []*formEntry{s.password, s.clientSecret} {
		test.Tap(revealButton(t, f))
		if f.Password {
			t.Error("the show/hide button did not show the password")
		}
	}
}
