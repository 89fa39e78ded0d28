package core_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/mail/mailtest"
	"adhocstation/core/oauth/oauthtest"
)

// oauthStation is a station whose mail goes to a real go-smtp server that
// checks bearer tokens issued by a real HTTPS token endpoint.
type oauthStation struct {
	st    *core.Station
	clock *coretest.Clock
	dir   string
	mail  *mailtest.Server
	token *oauthtest.Server
	logs  *coretest.LogBuffer
}

func newOAuthStation(t *testing.T, auth core.SMTPAuth) *oauthStation {
	t.Setenv(core.KeyringEnv, "off")
	o := &oauthStation{clock: coretest.NewClock(coretest.Start), dir: t.TempDir(), logs: &coretest.LogBuffer{}}
	o.token = oauthtest.Start(t)
	o.mail = mailtest.Start(t, mailtest.StartTLS)
	o.mail.AcceptTokens(o.token.Valid)
	st, err := core.Open(core.Config{DataDir: o.dir, Now: o.clock.Now, HTTPClient: o.token.Client(),
		Logger: newTestLogger(o.logs)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	o.st = st
	set := core.DefaultSettings()
	set.SMTP = core.SMTPSettings{Host: o.mail.Host, Port: o.mail.Port, Security: core.SMTPStartTLS, Auth: auth,
		Username: mailtest.Username, Sender: mailtest.Username, CAFile: o.mail.CAFile}
	ctx := t.Context()
	switch auth {
	case core.SMTPAuthMicrosoft:
		set.SMTP.Tenant, set.SMTP.ClientID, set.SMTP.TokenURL = oauthtest.Tenant, oauthtest.ClientID, o.token.MicrosoftURL()
		if err := st.SetSMTPClientSecret(ctx, oauthtest.ClientSecret); err != nil {
			t.Fatal(err)
		}
	case core.SMTPAuthGoogle:
		if err := st.SetGoogleServiceAccountKey(ctx, o.token.KeyFile()); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SaveSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	return o
}

func (o *oauthStation) sendTest(t *testing.T) error {
	t.Helper()
	return o.st.SendTestEmail(t.Context(), "me@example.com")
}

// noSecretAnywhere scans the logs and every file of the data folder (the
// database, its WAL and journal) for the secrets in plain text.
func (o *oauthStation) noSecretAnywhere(t *testing.T, secrets ...string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(o.dir, "*"))
	for _, secret := range secrets {
		if strings.Contains(o.logs.String(), secret) {
			t.Errorf("the logs hold %q", secret)
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s holds %q in plain text", filepath.Base(f), secret)
			}
		}
	}
}

func TestMicrosoftOAuthTokenFetchedCachedAndRefreshed(t *testing.T) {
	o := newOAuthStation(t, core.SMTPAuthMicrosoft)
	o.noSecretAnywhere(t, oauthtest.ClientSecret) // stored, not yet used
	if err := o.sendTest(t); err != nil {
		t.Fatalf("first test email: %v", err)
	}
	if err := o.sendTest(t); err != nil {
		t.Fatalf("second test email: %v", err)
	}
	msgs := o.mail.Wait(2)
	if got := o.token.Fetches(); got != 1 {
		t.Fatalf("two sends fetched %d tokens, want 1 (cached)", got)
	}
	for _, m := range msgs {
		if m.AuthUser != mailtest.Username || m.AuthMech != "OAUTHBEARER" {
			t.Fatalf("signed in as %q with %q, want %s with OAUTHBEARER (listed first)", m.AuthUser, m.AuthMech, mailtest.Username)
		}
	}
	// 54 minutes on, the hour-long token has 6 left: still used.
	o.clock.Advance(54 * time.Minute)
	if err := o.sendTest(t); err != nil {
		t.Fatal(err)
	}
	if got := o.token.Fetches(); got != 1 {
		t.Fatalf("a token with 6 minutes left was replaced (%d fetches)", got)
	}
	// Within 5 minutes of expiry it is replaced before it can run out mid-send.
	o.clock.Advance(2 * time.Minute)
	if err := o.sendTest(t); err != nil {
		t.Fatal(err)
	}
	if got := o.token.Fetches(); got != 2 {
		t.Fatalf("a token 4 minutes from expiry was not refreshed (%d fetches)", got)
	}
	o.mail.Wait(4)
	o.noSecretAnywhere(t, oauthtest.ClientSecret)
}

func TestTokenRefusedByTheMailServerIsFetchedAgain(t *testing.T) {
	o := newOAuthStation(t, core.SMTPAuthMicrosoft)
	if err := o.sendTest(t); err != nil {
		t.Fatal(err)
	}
	o.token.Revoke()
	err := o.sendTest(t)
	if text, _ := core.RefusalText(err); !strings.Contains(text, "did not accept it for this mailbox") {
		t.Fatalf("a revoked token: %v", err)
	}
	if err := o.sendTest(t); err != nil {
		t.Fatalf("after the refusal a new token should be fetched: %v", err)
	}
	if got := o.token.Fetches(); got != 2 {
		t.Fatalf("%d fetches, want 2", got)
	}
}

func TestGoogleServiceAccountSignsInWithXOAuth2(t *testing.T) {
	o := newOAuthStation(t, core.SMTPAuthGoogle)
	o.mail.OfferOnly(mailtest.XOAuth2)
	if err := o.sendTest(t); err != nil {
		t.Fatalf("test email: %v", err)
	}
	m := o.mail.Wait(1)[0]
	if m.AuthMech != mailtest.XOAuth2 || m.AuthUser != mailtest.Username {
		t.Fatalf("signed in with %q as %q", m.AuthMech, m.AuthUser)
	}
	if subs := o.token.Subjects(); len(subs) != 1 || subs[0] != mailtest.Username {
		t.Fatalf("the assertion impersonated %q, want the mailbox %s", subs, mailtest.Username)
	}
	if got := o.st.GoogleServiceAccount(t.Context()); got != oauthtest.ServiceAccount {
		t.Fatalf("service account shown as %q", got)
	}
	// The key's PEM body: any line of it would betray the key.
	keyLines := strings.Split(string(o.token.KeyFile()), `\n`)
	o.noSecretAnywhere(t, keyLines[1], keyLines[len(keyLines)/2])
}

func TestRefusedClientSecretIsASettingsError(t *testing.T) {
	o := newOAuthStation(t, core.SMTPAuthMicrosoft)
	o.token.Refuse("invalid_client")
	err := o.sendTest(t)
	var se *core.SettingError
	if !errors.As(err, &se) || se.Field != core.FieldClientSecret {
		t.Fatalf("got %v, want a SettingError for %s", err, core.FieldClientSecret)
	}
	for _, want := range []string{"Microsoft refused", "invalid_client", "AADSTS7000215", "Enter a current client secret"} {
		if !strings.Contains(se.Reason, want) {
			t.Errorf("%q lacks %q", se.Reason, want)
		}
	}
	if strings.Contains(se.Reason, "Trace ID") {
		t.Errorf("Microsoft's trace lines belong to the log, not the sentence: %q", se.Reason)
	}
	if n := o.mail.AuthAttempts(); n != 0 {
		t.Fatalf("the mail server saw %d sign-ins without a token", n)
	}
	if _, ok := core.RefusalText(err); !errors.Is(err, core.ErrInvalidSetting) || !ok {
		t.Fatalf("not a refusal a technician may read: %v", err)
	}
}

func TestMissingClientSecretIsASettingsError(t *testing.T) {
	o := newOAuthStation(t, core.SMTPAuthMicrosoft)
	if err := o.st.SetSMTPClientSecret(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	var se *core.SettingError
	if err := o.sendTest(t); !errors.As(err, &se) || se.Field != core.FieldClientSecret {
		t.Fatalf("got %v", err)
	}
}

func TestBadServiceAccountKeyIsRefused(t *testing.T) {
	st, _ := coretest.Open(t)
	var se *core.SettingError
	err := st.SetGoogleServiceAccountKey(t.Context(), []byte(`{"type":"authorized_user"}`))
	if !errors.As(err, &se) || se.Field != core.FieldServiceAccountKey || !strings.Contains(se.Reason, "service account") {
		t.Fatalf("got %v", err)
	}
}

func TestPasswordRefusedAsBasicAuthSaysSwitchToOAuth(t *testing.T) {
	t.Setenv(core.KeyringEnv, "off")
	st, _ := coretest.Open(t)
	srv := mailtest.Start(t, mailtest.StartTLS)
	srv.RefuseBasicAuth()
	configure(t, st, srv, mailtest.Password)
	err := st.SendTestEmail(t.Context(), "me@example.com")
	text, _ := core.RefusalText(err)
	for _, want := range []string{"5.7.30", "Microsoft 365 OAuth", "no longer accepts a password"} {
		if !strings.Contains(text, want) {
			t.Errorf("%q lacks %q", text, want)
		}
	}
}

func TestValidateSettingsRefusesEveryOAuthFieldAtOnce(t *testing.T) {
	set := core.DefaultSettings()
	set.SMTP = core.SMTPSettings{Host: "smtp.office365.com", Port: 587, Security: core.SMTPStartTLS,
		Auth: core.SMTPAuthMicrosoft, Username: "not a mailbox", Sender: "support@contoso.com",
		Tenant: "https://login.microsoftonline.com/contoso", ClientID: "my-app", TokenURL: "http://127.0.0.1/token"}
	got := map[core.SettingField]string{}
	for _, se := range core.SettingErrors(core.ValidateSettings(set)) {
		got[se.Field] = se.Reason
	}
	for _, f := range []core.SettingField{core.FieldSMTPUsername, core.FieldTenant, core.FieldClientID, core.FieldTokenURL} {
		if !strings.HasSuffix(got[f], ".") {
			t.Errorf("%s: %q, want a sentence", f, got[f])
		}
	}
	if len(got) != 4 {
		t.Errorf("refused %v", got)
	}
	set.SMTP.Auth = "kerberos"
	if errs := core.SettingErrors(core.ValidateSettings(set)); len(errs) != 1 || errs[0].Field != core.FieldSMTPAuth {
		t.Errorf("an unknown method: %v", errs)
	}
	set.SMTP.Auth, set.SMTP.Username = core.SMTPAuthMicrosoft, "support@contoso.com"
	set.SMTP.Tenant, set.SMTP.ClientID, set.SMTP.TokenURL = "72f988bf-86f1-41af-91ab-2d7cd011db47", "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b", ""
	if err := core.ValidateSettings(set); err != nil {
		t.Errorf("good Microsoft settings refused: %v", err)
	}
}

func TestMicrosoftOAuthWithACertificate(t *testing.T) {
	o := newOAuthStation(t, core.SMTPAuthMicrosoft)
	file := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(file, o.token.CertificateFile(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := o.st.SetSMTPClientCertificateFile(t.Context(), file); err != nil {
		t.Fatal(err)
	}
	if o.st.HasSMTPClientSecret(t.Context()) {
		t.Fatal("the client secret is still stored beside the certificate")
	}
	if tp := o.st.SMTPClientCertificate(t.Context()); len(tp) != 40 {
		t.Fatalf("thumbprint %q", tp)
	}
	if err := o.sendTest(t); err != nil {
		t.Fatalf("test email signed with the certificate: %v", err)
	}
	if o.mail.Wait(1); o.token.Fetches() != 1 {
		t.Fatalf("%d fetches", o.token.Fetches())
	}
	keyLines := strings.Split(string(o.token.CertificateFile()), "\n")
	o.noSecretAnywhere(t, keyLines[len(keyLines)-3], keyLines[len(keyLines)-8])

	o.token.Refuse("invalid_client")
	o.clock.Advance(time.Hour)
	var se *core.SettingError
	if err := o.sendTest(t); !errors.As(err, &se) || se.Field != core.FieldClientCertificate || !strings.Contains(se.Reason, "uploaded to the app registration") {
		t.Fatalf("a certificate Entra refuses: %v", err)
	}

	// A file without its key is refused.
	if err := os.WriteFile(file, o.token.CertificateFile()[:strings.Index(string(o.token.CertificateFile()), "-----BEGIN PRIVATE KEY")], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := o.st.SetSMTPClientCertificateFile(t.Context(), file); !errors.As(err, &se) || !strings.Contains(se.Reason, "both the certificate and its private key") {
		t.Fatalf("a certificate without its key: %v", err)
	}
}

// The outbox signs in the same way: an invitation goes out with a token,
// and a second one reuses it.
func TestInvitationsSentWithOAuth(t *testing.T) {
	o := newOAuthStation(t, core.SMTPAuthGoogle)
	sub := o.st.Subscribe()
	defer sub.Close()
	run(t, o.st)
	_, first := coretest.MustPrepare(t, o.st, "Maria Tech", "maria@example.com")
	waitEmail(t, o.st, sub, first.Session.ID, core.EmailSent)
	_, second := coretest.MustPrepare(t, o.st, "Tom Tech", "tom@example.com")
	waitEmail(t, o.st, sub, second.Session.ID, core.EmailSent)
	msgs := o.mail.Wait(2)
	if msgs[0].AuthMech != "OAUTHBEARER" || msgs[1].AuthUser != mailtest.Username || o.token.Fetches() != 1 {
		t.Fatalf("received %+v after %d token fetches", msgs, o.token.Fetches())
	}
}
