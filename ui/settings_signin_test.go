package ui

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/mail/mailtest"
	"adhocstation/core/oauth/oauthtest"
)

// pagesTestOAuth is a Settings page on a station whose token requests go
// to a real HTTPS token endpoint, with a real SMTP server checking tokens.
func pagesTestOAuth(t *testing.T) (*settingsScreen, *core.Station, *oauthtest.Server, *mailtest.Server) {
	t.Helper()
	t.Setenv(core.KeyringEnv, "off")
	tokens := oauthtest.Start(t)
	srv := mailtest.Start(t, mailtest.StartTLS)
	srv.AcceptTokens(tokens.Valid)
	st, err := core.Open(core.Config{DataDir: t.TempDir(), Now: coretest.NewClock(coretest.Start).Now, HTTPClient: tokens.Client()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := pagesTestSettings(t, st)
	s.entries[fieldSMTPHost].SetText(srv.Host)
	s.entries[fieldSMTPPort].SetText(strconv.Itoa(srv.Port))
	s.security.SetSelected(securityLabel(core.SMTPStartTLS))
	s.entries[fieldCAFile].SetText(srv.CAFile)
	s.entries[fieldUsername].SetText(mailtest.Username)
	s.entries[fieldSender].SetText(mailtest.Username)
	test.Type(s.entries[fieldTestTo], "me@example.com")
	return s, st, tokens, srv
}

// rowShown reports whether field's row is on the page.
func rowShown(s *settingsScreen, field string) bool {
	return s.rows[field][0].Visible() && s.rows[field][1].Visible()
}

func TestSettingsSignInMethodShowsItsFields(t *testing.T) {
	st, _ := coretest.Open(t)
	s := pagesTestSettings(t, st)
	want := map[string][]string{
		"Password":                       {fieldPassword},
		"Microsoft 365 OAuth":            {fieldTenant, fieldClientID, fieldClientSecret, fieldClientCert, fieldTokenURL},
		"Google OAuth (service account)": {fieldServiceKey},
	}
	for label, fields := range want {
		s.method.SetSelected(label)
		for field := range methodRows {
			shown := rowShown(s, field)
			if shown != strings.Contains(strings.Join(fields, "|"), field) {
				t.Errorf("%s: row %s shown %v", label, field, shown)
			}
		}
	}
	if s.methodState.Text != "Sign-in in use: none (no mail server is set)." {
		t.Errorf("method state %q", s.methodState.Text)
	}
}

// Every Microsoft field refused at once, each beside its field, including
// a client secret neither stored nor typed.
func TestSettingsMicrosoftFieldsRefusedAtOnce(t *testing.T) {
	st, _ := coretest.Open(t)
	s := pagesTestSettings(t, st)
	pagesTestMail(s)
	s.method.SetSelected(methodLabel(core.SMTPAuthMicrosoft))
	s.entries[fieldUsername].SetText("station")
	s.entries[fieldTenant].SetText("not a tenant")
	s.entries[fieldClientID].SetText("my-app")
	s.entries[fieldTokenURL].SetText("http://example.com/token")
	test.Tap(s.save)
	shown := pagesTestShownErrors(s)
	for field, want := range map[string]string{
		fieldUsername: "mailbox the station sends as", fieldTenant: "tenant ID", fieldClientID: "application (client) ID",
		fieldTokenURL: "https://", fieldClientSecret: "Enter the client secret",
	} {
		if !strings.Contains(shown[field], want) {
			t.Errorf("%s: %q, want …%s…", field, shown[field], want)
		}
	}
	if len(shown) != 5 || s.status.Text != "Not saved: correct the 5 fields marked in red." {
		t.Errorf("shown %q, status %q", shown, s.status.Text)
	}
	if got, _ := st.Settings(t.Context()); got != core.DefaultSettings() {
		t.Errorf("refused settings were saved: %+v", got)
	}
}

// Microsoft 365 OAuth end to end from the page: the secret is typed once,
// stored, never shown again, and Send test email signs in with a token.
func TestSettingsSendTestEmailWithMicrosoftOAuth(t *testing.T) {
	s, st, tokens, srv := pagesTestOAuth(t)
	s.method.SetSelected(methodLabel(core.SMTPAuthMicrosoft))
	s.entries[fieldTenant].SetText(oauthtest.Tenant)
	s.entries[fieldClientID].SetText(oauthtest.ClientID)
	s.entries[fieldTokenURL].SetText(tokens.MicrosoftURL())
	test.Type(s.clientSecret, oauthtest.ClientSecret)
	watchWork(&s.work).during(t, jobTestEmail, func() { test.Tap(s.sendTest) })
	if s.testOut.Text != "The test email to me@example.com was accepted by the server. Check that it arrives." {
		t.Fatalf("test email: %q; fields %q", s.testOut.Text, pagesTestShownErrors(s))
	}
	if m := srv.Messages(); len(m) != 1 || m[0].AuthMech != "OAUTHBEARER" || tokens.Fetches() != 1 {
		t.Fatalf("server received %+v after %d token fetches", m, tokens.Fetches())
	}
	if s.clientSecret.Text != "" || !st.HasSMTPClientSecret(t.Context()) || s.secretState.Text != "A client secret is stored; it is never shown." {
		t.Fatalf("after saving: field %q, note %q", s.clientSecret.Text, s.secretState.Text)
	}
	if want := "Sign-in in use: Microsoft 365 OAuth, a client secret is stored."; s.methodState.Text != want {
		t.Fatalf("method state %q, want %q", s.methodState.Text, want)
	}
}

// A certificate instead of a secret: its file's path is typed, it is
// stored, its thumbprint shown, and the test email signs in with it.
func TestSettingsSendTestEmailWithMicrosoftCertificate(t *testing.T) {
	s, st, tokens, srv := pagesTestOAuth(t)
	file := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(file, tokens.CertificateFile(), 0o600); err != nil {
		t.Fatal(err)
	}
	s.method.SetSelected(methodLabel(core.SMTPAuthMicrosoft))
	s.entries[fieldTenant].SetText(oauthtest.Tenant)
	s.entries[fieldClientID].SetText(oauthtest.ClientID)
	s.entries[fieldTokenURL].SetText(tokens.MicrosoftURL())
	s.entries[fieldClientCert].SetText(file)
	watchWork(&s.work).during(t, jobTestEmail, func() { test.Tap(s.sendTest) })
	if s.testOut.Text != "The test email to me@example.com was accepted by the server. Check that it arrives." {
		t.Fatalf("test email: %q; fields %q", s.testOut.Text, pagesTestShownErrors(s))
	}
	if len(srv.Messages()) != 1 || s.entries[fieldClientCert].Text != "" ||
		!strings.Contains(s.certState.Text, st.SMTPClientCertificate(t.Context())) {
		t.Fatalf("messages %d, path %q, note %q", len(srv.Messages()), s.entries[fieldClientCert].Text, s.certState.Text)
	}
	if want := "Sign-in in use: Microsoft 365 OAuth, a client certificate is stored."; s.methodState.Text != want {
		t.Fatalf("method state %q", s.methodState.Text)
	}
}

// A client secret the token endpoint refuses: the test's outcome says so,
// and the sentence is shown beside the client secret too.
func TestSettingsRefusedClientSecretShownBesideIt(t *testing.T) {
	s, _, tokens, srv := pagesTestOAuth(t)
	tokens.Refuse("invalid_client")
	s.method.SetSelected(methodLabel(core.SMTPAuthMicrosoft))
	s.entries[fieldTenant].SetText(oauthtest.Tenant)
	s.entries[fieldClientID].SetText(oauthtest.ClientID)
	s.entries[fieldTokenURL].SetText(tokens.MicrosoftURL())
	test.Type(s.clientSecret, "an-expired-secret")
	watchWork(&s.work).during(t, jobTestEmail, func() { test.Tap(s.sendTest) })
	if !strings.HasPrefix(s.testOut.Text, "The test email was not sent.") || !strings.Contains(s.testOut.Text, "invalid_client") {
		t.Fatalf("test outcome %q", s.testOut.Text)
	}
	if msg := pagesTestShownErrors(s)[fieldClientSecret]; !strings.Contains(msg, "Enter a current client secret") {
		t.Fatalf("beside the client secret: %q", msg)
	}
	if n := srv.AuthAttempts(); n != 0 {
		t.Fatalf("%d sign-ins without a token", n)
	}
}

// Google: the key file's path is typed, the key stored (the file may then
// go), and the test email signs in as the mailbox.
func TestSettingsSendTestEmailWithGoogleOAuth(t *testing.T) {
	s, st, tokens, srv := pagesTestOAuth(t)
	keyFile := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(keyFile, tokens.KeyFile(), 0o600); err != nil {
		t.Fatal(err)
	}
	s.method.SetSelected(methodLabel(core.SMTPAuthGoogle))
	s.entries[fieldServiceKey].SetText(keyFile)
	watchWork(&s.work).during(t, jobTestEmail, func() { test.Tap(s.sendTest) })
	if s.testOut.Text != "The test email to me@example.com was accepted by the server. Check that it arrives." {
		t.Fatalf("test email: %q; fields %q", s.testOut.Text, pagesTestShownErrors(s))
	}
	if m := srv.Messages(); len(m) != 1 || m[0].AuthUser != mailtest.Username {
		t.Fatalf("server received %+v", m)
	}
	if s.entries[fieldServiceKey].Text != "" || st.GoogleServiceAccount(t.Context()) != oauthtest.ServiceAccount ||
		!strings.Contains(s.keyState.Text, oauthtest.ServiceAccount) {
		t.Fatalf("after saving: path %q, note %q", s.entries[fieldServiceKey].Text, s.keyState.Text)
	}
	// A file that is not a key is refused beside the field.
	if err := os.WriteFile(keyFile, []byte(`{"type":"authorized_user"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s.entries[fieldServiceKey].SetText(keyFile)
	test.Tap(s.save)
	if msg := pagesTestShownErrors(s)[fieldServiceKey]; !strings.Contains(msg, "not a service account's key") {
		t.Fatalf("a wrong file: %q (status %q)", msg, s.status.Text)
	}
}

// A password that Exchange Online refuses with 5.7.30 tells the
// technician to switch to Microsoft 365 OAuth.
func TestSettingsBasicAuthOffSaysSwitchToOAuth(t *testing.T) {
	s, _, _, srv := pagesTestOAuth(t)
	srv.RefuseBasicAuth()
	test.Type(s.password, mailtest.Password)
	watchWork(&s.work).during(t, jobTestEmail, func() { test.Tap(s.sendTest) })
	if !strings.Contains(s.testOut.Text, "5.7.30") || !strings.Contains(s.testOut.Text, "Microsoft 365 OAuth") {
		t.Fatalf("test outcome %q", s.testOut.Text)
	}
}
