package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
)

// The sign-in part of the mail group: the method, and the fields and
// stored secrets each method needs. Secrets are typed once, stored by core
// (keyring or sealed) and never shown again.
const (
	fieldMethod       = string(core.FieldSMTPAuth)
	fieldTenant       = string(core.FieldTenant)
	fieldClientID     = string(core.FieldClientID)
	fieldClientSecret = string(core.FieldClientSecret)
	fieldClientCert   = string(core.FieldClientCertificate)
	fieldTokenURL     = string(core.FieldTokenURL)
	fieldServiceKey   = string(core.FieldServiceAccountKey)
)

// methodChoices maps what the technician reads to core's values.
var methodChoices = []struct {
	label string
	value core.SMTPAuth
}{
	{"Password", core.SMTPAuthPassword},
	{"Microsoft 365 OAuth", core.SMTPAuthMicrosoft},
	{"Google OAuth (service account)", core.SMTPAuthGoogle},
}

// methodRows are the rows shown only for one method.
var methodRows = map[string]core.SMTPAuth{
	fieldPassword:     core.SMTPAuthPassword,
	fieldTenant:       core.SMTPAuthMicrosoft,
	fieldClientID:     core.SMTPAuthMicrosoft,
	fieldClientSecret: core.SMTPAuthMicrosoft,
	fieldClientCert:   core.SMTPAuthMicrosoft,
	fieldTokenURL:     core.SMTPAuthMicrosoft,
	fieldServiceKey:   core.SMTPAuthGoogle,
}

func methodLabel(v core.SMTPAuth) string {
	for _, c := range methodChoices {
		if c.value == v {
			return c.label
		}
	}
	return methodChoices[0].label
}

func (s *settingsScreen) selectedMethod() core.SMTPAuth {
	for _, c := range methodChoices {
		if c.label == s.method.Selected {
			return c.value
		}
	}
	return s.saved.SMTP.Auth
}

// buildSignIn makes the sign-in widgets; newSettingsScreen calls it before
// layout.
func (s *settingsScreen) buildSignIn() {
	var labels []string
	for _, c := range methodChoices {
		labels = append(labels, c.label)
	}
	s.method = widget.NewSelect(labels, func(string) { s.showMethodRows() })
	s.methodState = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.clientSecret = newFormPasswordEntry("")
	s.clientSecret.OnSubmitted = func(string) { s.onSave() }
	s.secretState = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.keyState = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.certState = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.entries[fieldTenant].PlaceHolder = "contoso.onmicrosoft.com or the tenant ID"
	s.entries[fieldClientID].PlaceHolder = "application (client) ID of the app registration"
	s.entries[fieldTokenURL].PlaceHolder = "optional: empty uses Microsoft's endpoint for the tenant"
	s.entries[fieldServiceKey].PlaceHolder = "path of the service account's JSON key file"
	s.entries[fieldClientCert].PlaceHolder = "or: path of a PEM file with the app's certificate and its private key"
}

// showMethodRows shows the rows of the chosen method and hides the others;
// the user name's hint follows the method.
func (s *settingsScreen) showMethodRows() {
	m := s.selectedMethod()
	for field, method := range methodRows {
		for _, o := range s.rows[field] {
			if method == m {
				o.Show()
			} else {
				o.Hide()
			}
		}
	}
	if m == core.SMTPAuthPassword {
		s.entries[fieldUsername].SetPlaceHolder("empty: the server needs no sign-in")
	} else {
		s.entries[fieldUsername].SetPlaceHolder("the mailbox to send as, e.g. support@example.com")
	}
	if s.scroll != nil {
		s.scroll.Refresh()
	}
}

// loadSignIn shows the saved method and what is stored for it, never the
// secrets themselves.
func (s *settingsScreen) loadSignIn(ctx context.Context, set core.Settings) {
	s.method.SetSelected(methodLabel(set.SMTP.Auth))
	s.entries[fieldTenant].SetText(set.SMTP.Tenant)
	s.entries[fieldClientID].SetText(set.SMTP.ClientID)
	s.entries[fieldTokenURL].SetText(set.SMTP.TokenURL)
	s.entries[fieldServiceKey].SetText("")
	s.entries[fieldClientCert].SetText("")
	s.clientSecret.SetText("")
	// stored says what each method would sign in with.
	stored := map[core.SMTPAuth]string{}
	if s.st.HasSMTPPassword(ctx) {
		stored[core.SMTPAuthPassword] = "a password is stored"
	}
	if tp := s.st.SMTPClientCertificate(ctx); tp != "" {
		s.certState.SetText("A certificate (thumbprint " + tp + ") and its key are stored and used; the key is never shown.")
		stored[core.SMTPAuthMicrosoft] = "a client certificate is stored"
	} else {
		s.certState.SetText("No certificate is stored.")
	}
	if s.st.HasSMTPClientSecret(ctx) {
		s.clientSecret.SetPlaceHolder("type a new secret to replace it")
		s.secretState.SetText("A client secret is stored; it is never shown.")
		stored[core.SMTPAuthMicrosoft] = "a client secret is stored"
	} else {
		s.clientSecret.SetPlaceHolder("")
		s.secretState.SetText("No client secret is stored.")
	}
	if account := s.st.GoogleServiceAccount(ctx); account != "" {
		s.keyState.SetText("The key of " + account + " is stored; it is never shown. Choose a file to replace it.")
		stored[core.SMTPAuthGoogle] = "the key of " + account + " is stored"
	} else {
		s.keyState.SetText("No key is stored.")
	}
	inUse := "Sign-in in use: " + methodLabel(set.SMTP.Auth)
	switch {
	case !set.SMTP.Configured():
		inUse = "Sign-in in use: none (no mail server is set)"
	case stored[set.SMTP.Auth] != "":
		inUse += ", " + stored[set.SMTP.Auth]
	case set.SMTP.Auth != core.SMTPAuthPassword:
		inUse += " — its secret is not stored yet"
	}
	s.methodState.SetText(inUse + ".")
	s.showMethodRows()
}

// readSignIn puts the form's sign-in fields into set.
func (s *settingsScreen) readSignIn(set *core.Settings, text func(string) string) {
	set.SMTP.Auth = s.selectedMethod()
	set.SMTP.Tenant = text(fieldTenant)
	set.SMTP.ClientID = text(fieldClientID)
	set.SMTP.TokenURL = text(fieldTokenURL)
}

// signInUnsaved reports typed secrets not saved yet.
func (s *settingsScreen) signInUnsaved() bool {
	return s.clientSecret.Text != "" || s.entries[fieldServiceKey].Text != "" || s.entries[fieldClientCert].Text != ""
}

// checkSecrets refuses a method whose secret is neither stored nor typed.
func (s *settingsScreen) checkSecrets(ctx context.Context, set core.Settings, bad map[string]string) {
	if !set.SMTP.Configured() {
		return
	}
	switch set.SMTP.Auth {
	case core.SMTPAuthMicrosoft:
		if s.clientSecret.Text == "" && s.entries[fieldClientCert].Text == "" && !s.st.HasSMTPClientSecret(ctx) &&
			s.st.SMTPClientCertificate(ctx) == "" {
			bad[fieldClientSecret] = "Enter the client secret of the app registration (Certificates & secrets in Microsoft Entra), or a certificate file below. It is stored safely and never shown again."
		}
	case core.SMTPAuthGoogle:
		if s.entries[fieldServiceKey].Text == "" && s.st.GoogleServiceAccount(ctx) == "" {
			bad[fieldServiceKey] = "Enter the path of the service account's JSON key file (Google Cloud console, the service account's Keys tab). Its key is stored safely; the file can be deleted afterwards."
		}
	}
}

// storeSecrets stores the typed client secret or key file; a refusal goes
// under its field. It reports whether everything typed was stored.
func (s *settingsScreen) storeSecrets(ctx context.Context, set core.Settings) bool {
	var err error
	field := ""
	switch {
	case set.SMTP.Auth == core.SMTPAuthMicrosoft && s.entries[fieldClientCert].Text != "":
		field, err = fieldClientCert, s.st.SetSMTPClientCertificateFile(ctx, s.entries[fieldClientCert].Text)
	case set.SMTP.Auth == core.SMTPAuthMicrosoft && s.clientSecret.Text != "":
		field, err = fieldClientSecret, s.st.SetSMTPClientSecret(ctx, s.clientSecret.Text)
	case set.SMTP.Auth == core.SMTPAuthGoogle && s.entries[fieldServiceKey].Text != "":
		field, err = fieldServiceKey, s.st.SetGoogleServiceAccountKeyFile(ctx, s.entries[fieldServiceKey].Text)
	}
	if err != nil {
		bad := map[string]string{}
		addSettingErrors(bad, err)
		if len(bad) == 0 {
			bad[field] = errorText(err)
		}
		s.showFieldErrors(bad)
		s.setStatus("Not saved: the "+field+" could not be stored.", widget.DangerImportance)
		return false
	}
	return true
}
