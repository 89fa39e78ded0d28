package core

import (
	"net/mail"
	"net/url"
	"regexp"
	"strings"
)

var (
	guidPattern   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainPattern = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$`)
)

// String names the method as the Settings page does.
func (a SMTPAuth) String() string {
	switch a {
	case SMTPAuthPassword:
		return "password"
	case SMTPAuthMicrosoft:
		return "Microsoft 365 OAuth"
	case SMTPAuthGoogle:
		return "Google OAuth"
	}
	return string(a)
}

// validateSMTPAuth checks the fields the chosen sign-in method needs. The
// secrets are stored apart and checked when they are stored or used.
func validateSMTPAuth(m SMTPSettings, refuse func(SettingField, string)) {
	mailbox := func() {
		if a, err := mail.ParseAddress(m.Username); err != nil || a.Address != m.Username {
			refuse(FieldSMTPUsername, "With OAuth the user name is the mailbox the station sends as: enter its address, e.g. support@example.com.")
		}
	}
	switch m.Auth {
	case SMTPAuthPassword:
	case SMTPAuthMicrosoft:
		mailbox()
		if !guidPattern.MatchString(m.Tenant) && !domainPattern.MatchString(m.Tenant) {
			refuse(FieldTenant, "Enter the Microsoft 365 tenant ID (a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47) or its domain, e.g. contoso.onmicrosoft.com.")
		}
		if !guidPattern.MatchString(m.ClientID) {
			refuse(FieldClientID, "Enter the application (client) ID from the app registration's Overview page in Microsoft Entra: a GUID like 00000000-0000-0000-0000-000000000000.")
		}
		if m.TokenURL != "" {
			if u, err := url.Parse(m.TokenURL); err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(m.TokenURL, " \t") {
				refuse(FieldTokenURL, "Enter an https:// address, or leave it empty to use Microsoft's token endpoint for the tenant.")
			}
		}
	case SMTPAuthGoogle:
		mailbox()
	default:
		refuse(FieldSMTPAuth, "Choose Password, Microsoft 365 OAuth or Google OAuth.")
	}
}
