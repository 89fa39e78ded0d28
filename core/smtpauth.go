package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"sync"

	"adhocstation/core/mail"
	"adhocstation/core/oauth"
)

// SMTPCredential is what the mailer signs in with: a password, or an
// OAuth 2.0 access token for the mailbox in the user name.
type SMTPCredential struct {
	Password string
	Token    string
}

// SetSMTPClientSecret keeps the Microsoft 365 app's client secret as the
// SMTP password is kept (keyring or sealed, never plain text); "" forgets
// it. A stored client certificate is forgotten: one credential is used.
// It publishes EventSettings.
func (s *Station) SetSMTPClientSecret(ctx context.Context, secret string) error {
	s.tokens.forget()
	if secret != "" && s.hasSMTPSecret(ctx, secretClientCert) {
		if err := s.setSMTPSecret(ctx, secretClientCert, "", " (replaced by a client secret)"); err != nil {
			return err
		}
	}
	return s.setSMTPSecret(ctx, secretClientSecret, secret, "")
}

// SetSMTPClientCertificateFile reads a PEM file holding the app
// registration's certificate and its private key and keeps it as the SMTP
// password is kept, in place of a client secret (which is forgotten). A
// file that cannot be read or lacks either part is a *SettingError.
func (s *Station) SetSMTPClientCertificateFile(ctx context.Context, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return &SettingError{FieldClientCertificate, "The certificate file cannot be read (" + plainError(err) + "). Check the path."}
	}
	cert, err := oauth.ParseClientCertificate(data)
	if err != nil {
		return &SettingError{FieldClientCertificate, sentence(err.Error()) + " Choose a PEM file with the certificate uploaded to the app registration and its private key."}
	}
	s.tokens.forget()
	if err := s.setSMTPSecret(ctx, secretClientSecret, "", " (replaced by a client certificate)"); err != nil {
		return err
	}
	return s.setSMTPSecret(ctx, secretClientCert, string(data), " (thumbprint "+cert.Thumbprint+")")
}

// SMTPClientCertificate returns the SHA-1 thumbprint of the stored client
// certificate, as Microsoft Entra lists it; "" when none is stored.
func (s *Station) SMTPClientCertificate(ctx context.Context) string {
	raw, err := s.smtpSecret(ctx, secretClientCert)
	if err != nil || raw == "" {
		return ""
	}
	cert, err := oauth.ParseClientCertificate([]byte(raw))
	if err != nil {
		return ""
	}
	return cert.Thumbprint
}

// HasSMTPClientSecret reports whether a client secret is stored.
func (s *Station) HasSMTPClientSecret(ctx context.Context) bool {
	return s.hasSMTPSecret(ctx, secretClientSecret)
}

// SetGoogleServiceAccountKey checks and keeps a Google service account's
// JSON key file (it holds the private key) as the SMTP password is kept;
// nil forgets it. A file that is not such a key is refused with a
// *SettingError for FieldServiceAccountKey.
func (s *Station) SetGoogleServiceAccountKey(ctx context.Context, keyFile []byte) error {
	s.tokens.forget()
	if keyFile == nil {
		return s.setSMTPSecret(ctx, secretGoogleKey, "", "")
	}
	key, err := oauth.ParseServiceAccountKey(keyFile)
	if err != nil {
		return &SettingError{FieldServiceAccountKey, sentence(err.Error()) + " Choose the JSON key file downloaded from the Google Cloud console."}
	}
	return s.setSMTPSecret(ctx, secretGoogleKey, string(keyFile), " (service account "+key.ClientEmail+")")
}

// GoogleServiceAccount returns the address of the stored service account
// key's account; "" when none is stored or it cannot be read.
func (s *Station) GoogleServiceAccount(ctx context.Context) string {
	raw, err := s.smtpSecret(ctx, secretGoogleKey)
	if err != nil || raw == "" {
		return ""
	}
	key, err := oauth.ParseServiceAccountKey([]byte(raw))
	if err != nil {
		return ""
	}
	return key.ClientEmail
}

// smtpCredential returns what to sign in to m's server with: the stored
// password, or a token from the cache, fetched if needed. A missing secret
// or a token request the provider refused is a *SettingError naming the
// field to correct.
func (s *Station) smtpCredential(ctx context.Context, m SMTPSettings) (SMTPCredential, error) {
	var flow oauth.Flow
	var secret string
	var err error
	usesCert := false
	switch m.Auth {
	case SMTPAuthMicrosoft:
		url := m.TokenURL
		if url == "" {
			url = oauth.MicrosoftTokenURL(m.Tenant)
		}
		if secret, err = s.smtpSecret(ctx, secretClientCert); err != nil {
			return SMTPCredential{}, err
		}
		if secret != "" {
			cert, err := oauth.ParseClientCertificate([]byte(secret))
			if err != nil {
				return SMTPCredential{}, &SettingError{FieldClientCertificate, sentence(err.Error()) + " Choose the certificate file again."}
			}
			usesCert = true
			flow = oauth.ClientAssertion{TokenURL: url, ClientID: m.ClientID, Cert: cert, Scope: oauth.MicrosoftScope}
			break
		}
		if secret, err = s.smtpSecret(ctx, secretClientSecret); err != nil {
			return SMTPCredential{}, err
		}
		if secret == "" {
			return SMTPCredential{}, &SettingError{FieldClientSecret, "No client secret or certificate is stored. Enter the client secret of the app registration (Certificates & secrets in Microsoft Entra), or choose its certificate file."}
		}
		flow = oauth.ClientCredentials{TokenURL: url, ClientID: m.ClientID, ClientSecret: secret, Scope: oauth.MicrosoftScope}
	case SMTPAuthGoogle:
		if secret, err = s.smtpSecret(ctx, secretGoogleKey); err != nil {
			return SMTPCredential{}, err
		}
		if secret == "" {
			return SMTPCredential{}, &SettingError{FieldServiceAccountKey, "No service account key is stored. Choose the service account's JSON key file."}
		}
		key, err := oauth.ParseServiceAccountKey([]byte(secret))
		if err != nil {
			return SMTPCredential{}, &SettingError{FieldServiceAccountKey, sentence(err.Error()) + " Choose the key file again."}
		}
		flow = oauth.ServiceAccount{Key: key, Subject: m.Username, Scope: oauth.GoogleScope}
	default:
		pw, err := s.smtpPassword(ctx)
		return SMTPCredential{Password: pw}, err
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{string(m.Auth), m.Tenant, m.ClientID, m.TokenURL, m.Username, secret}, "\x00")))
	src := s.tokens.source(hex.EncodeToString(sum[:]), func() *oauth.Source { return oauth.NewSource(flow, s.http, s.now) })
	// A token endpoint that does not answer must not hold up Send test
	// email (or the outbox) longer than a mail server may.
	tctx, cancel := context.WithTimeout(ctx, mail.DefaultTimeout)
	defer cancel()
	tok, err := src.Token(tctx)
	if err != nil {
		return SMTPCredential{}, tokenError(m.Auth, usesCert, err)
	}
	return SMTPCredential{Token: tok}, nil
}

// sendMail delivers with the current credential; a token the server
// refused is dropped so the next try fetches a fresh one.
func (s *Station) sendMail(ctx context.Context, m SMTPSettings, from string, to []string, msg []byte) error {
	cred, err := s.smtpCredential(ctx, m)
	if err != nil {
		return err
	}
	err = s.mailer.Send(ctx, m, cred, from, to, msg)
	var me *mail.Error
	if cred.Token != "" && errors.As(err, &me) && me.Stage == mail.StageAuth {
		s.tokens.forget()
	}
	return err
}

// tokenError words a failed token request for the technician, pointing at
// the setting to correct when the provider refused it.
func tokenError(auth SMTPAuth, usesCert bool, err error) error {
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Temporary() {
		return Errorf("oauth_unreachable", "The station could not get a sign-in token: %s. Check this computer's connection to the internet, then try again.", plainError(err))
	}
	what := "Microsoft"
	if auth == SMTPAuthGoogle {
		what = "Google"
	}
	said := what + " refused the sign-in token request (" + oe.Code
	if oe.Description != "" {
		first, _, _ := strings.Cut(oe.Description, "\n")
		said += ": " + strings.TrimSpace(first)
	}
	said += "). "
	if auth == SMTPAuthGoogle {
		return &SettingError{FieldServiceAccountKey, said + "In the Google Admin console, give the service account's client ID domain-wide delegation " +
			"for https://mail.google.com/, check that the user name is a mailbox of your domain, and that the key was not deleted."}
	}
	switch {
	case oe.Code == "invalid_client" && usesCert:
		return &SettingError{FieldClientCertificate, said + "Check that this certificate is uploaded to the app registration (Certificates & secrets in Microsoft Entra) and not expired, and check the client ID."}
	case oe.Code == "invalid_client":
		return &SettingError{FieldClientSecret, said + "Enter a current client secret of the app registration (Certificates & secrets in Microsoft Entra; secrets expire) and check the client ID."}
	case strings.Contains(oe.Description, "AADSTS90002") || strings.Contains(oe.Description, "AADSTS900023"):
		return &SettingError{FieldTenant, said + "Check the tenant ID or domain."}
	}
	return &SettingError{FieldClientID, said + "Check the client ID, and that the app has the SMTP.SendAsApp permission with admin consent."}
}

// sentence capitalises a lower-case error text and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// plainError is err's text without Go's "Post \"url\": " prefix.
func plainError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "\": "); i >= 0 {
		return msg[i+3:]
	}
	return msg
}

// tokenCache keeps one token source: the one for the current settings and
// secret. Other settings replace it, dropping its token.
type tokenCache struct {
	mu  sync.Mutex
	key string
	src *oauth.Source
}

func (c *tokenCache) source(key string, create func() *oauth.Source) *oauth.Source {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.src == nil || c.key != key {
		c.key, c.src = key, create()
	}
	return c.src
}

func (c *tokenCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.src != nil {
		c.src.Forget()
	}
}

// SetGoogleServiceAccountKeyFile reads the JSON key file at path and keeps
// it as SetGoogleServiceAccountKey does; the file can be deleted after.
// A file that cannot be read is a *SettingError too.
func (s *Station) SetGoogleServiceAccountKeyFile(ctx context.Context, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return &SettingError{FieldServiceAccountKey, "The key file cannot be read (" + plainError(err) + "). Check the path."}
	}
	return s.SetGoogleServiceAccountKey(ctx, data)
}
