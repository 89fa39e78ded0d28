package core

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"time"
)

const settingsKey = "station"

// Settings returns the saved settings, or the defaults on a fresh station.
func (s *Station) Settings(ctx context.Context) (Settings, error) {
	return readSettings(ctx, s.rdb)
}

type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func readSettings(ctx context.Context, q queryer) (Settings, error) {
	set := DefaultSettings()
	var raw string
	err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, settingsKey).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return set, nil
	}
	if err != nil {
		return set, err
	}
	// Unmarshal over the defaults so settings added later get their default.
	if err := json.Unmarshal([]byte(raw), &set); err != nil {
		return DefaultSettings(), err
	}
	return set, nil
}

// SaveSettings validates and stores set. It returns every refused field as
// ValidateSettings does; nothing is saved then. It publishes EventSettings.
func (s *Station) SaveSettings(ctx context.Context, set Settings) error {
	if err := ValidateSettings(set); err != nil {
		return err
	}
	raw, err := json.Marshal(set)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, settingsKey, string(raw)); err != nil {
			return err
		}
		return s.audit(tx, 0, 0, "settings saved", settingsSummary(set))
	})
	if err != nil {
		return err
	}
	s.publish(Event{Kind: EventSettings})
	select {
	case s.outboxWake <- struct{}{}:
	default:
	}
	return nil
}

func settingsSummary(set Settings) string {
	smtp := "not configured"
	if set.SMTP.Configured() {
		smtp = net.JoinHostPort(set.SMTP.Host, strconv.Itoa(set.SMTP.Port)) + " (" + string(set.SMTP.Security) + ", sign-in " + set.SMTP.Auth.String() + ")"
	}
	return "seats " + strconv.Itoa(set.Seats) + ", invitation timeout " + set.InvitationTimeout.String() +
		", SMTP " + smtp + ", pairing " + set.Pairing.ListenAddr + " as " + set.Pairing.PublicHost
}

// SettingField is a setting's key in a SettingError: the name the Settings
// page shows it under.
type SettingField string

// The settings that validation can refuse.
const (
	FieldSeats             SettingField = "Seats"
	FieldInvitationTimeout SettingField = "Invitation timeout"
	FieldSMTPPort          SettingField = "SMTP port"
	FieldSMTPSecurity      SettingField = "SMTP security"
	FieldSMTPAuth          SettingField = "Sign-in method"
	FieldSMTPUsername      SettingField = "SMTP username"
	FieldTenant            SettingField = "Tenant"
	FieldClientID          SettingField = "Client ID"
	FieldClientSecret      SettingField = "Client secret"
	FieldClientCertificate SettingField = "Client certificate"
	FieldTokenURL          SettingField = "Token endpoint"
	FieldServiceAccountKey SettingField = "Service account key"
	FieldSender            SettingField = "Sender address"
	FieldCAFile            SettingField = "Extra CA certificate"
	FieldListenAddr        SettingField = "Pairing address"
	FieldPublicHost        SettingField = "Public host name"
	FieldPublicPort        SettingField = "Public port"
	FieldCertificate       SettingField = "Certificate"
	FieldRetention         SettingField = "Keep recordings for"
)

// ValidateSettings checks set without saving it. It returns nil, or every
// refused field at once: one *SettingError per field, joined with
// errors.Join (SettingErrors lists them; errors.Is matches ErrInvalidSetting).
func ValidateSettings(set Settings) error {
	var errs []error
	refuse := func(f SettingField, reason string) { errs = append(errs, &SettingError{f, reason}) }
	if set.Seats < 1 || set.Seats > 1000 {
		refuse(FieldSeats, "Enter a number of seats between 1 and 1000.")
	}
	if set.InvitationTimeout < 5*time.Minute || set.InvitationTimeout > 24*time.Hour {
		refuse(FieldInvitationTimeout, "Choose between 5 minutes and 24 hours.")
	}
	validateSMTP(set.SMTP, refuse)
	validatePairing(set.Pairing, refuse)
	if r := set.Recording.Retention; r < 24*time.Hour || r > MaxRetention {
		refuse(FieldRetention, "Choose between 1 and 3650 days.")
	}
	return errors.Join(errs...)
}

// SettingErrors lists the refused fields in err, in the order validation
// checks them; none for an error that is not about settings.
func SettingErrors(err error) []*SettingError {
	var out []*SettingError
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			out = append(out, SettingErrors(e)...)
		}
		return out
	}
	var se *SettingError
	if errors.As(err, &se) {
		out = append(out, se)
	}
	return out
}

func validateSMTP(m SMTPSettings, refuse func(SettingField, string)) {
	if !m.Configured() {
		return
	}
	if m.Port < 1 || m.Port > 65535 {
		refuse(FieldSMTPPort, "Enter a port between 1 and 65535 (587 for STARTTLS, 465 for TLS).")
	}
	switch m.Security {
	case SMTPStartTLS, SMTPTLS:
	case SMTPPlain:
		if !IsLoopbackHost(m.Host) {
			refuse(FieldSMTPSecurity, "Unencrypted SMTP is allowed only to this computer (localhost). Choose STARTTLS or TLS.")
		}
	default:
		refuse(FieldSMTPSecurity, "Choose STARTTLS, TLS or none.")
	}
	if _, err := mail.ParseAddress(m.Sender); err != nil || m.Sender == "" {
		refuse(FieldSender, "Enter the address invitations are sent from, e.g. support@example.com.")
	}
	if m.CAFile != "" {
		if _, err := os.Stat(m.CAFile); err != nil {
			refuse(FieldCAFile, "The file cannot be read ("+err.Error()+"). Check the path.")
		}
	}
	validateSMTPAuth(m, refuse)
}

func validatePairing(p PairingSettings, refuse func(SettingField, string)) {
	if host, port, err := net.SplitHostPort(p.ListenAddr); err != nil {
		refuse(FieldListenAddr, "Use host:port, e.g. :8443 for all interfaces.")
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		refuse(FieldListenAddr, "The port must be between 1 and 65535.")
	} else if host != "" && net.ParseIP(host) == nil {
		refuse(FieldListenAddr, "Use an IP address of this computer, or leave the host empty for all interfaces.")
	}
	if p.PublicHost == "" {
		refuse(FieldPublicHost, "Enter the name or address end users' PCs reach this station by.")
	} else if u, err := url.Parse("https://" + p.PublicHost + "/"); err != nil || u.Host != p.PublicHost || u.Port() != "" {
		refuse(FieldPublicHost, "Enter a host name or IP address only, without https:// or a port.")
	}
	if p.PublicPort != 0 && (p.PublicPort < 1 || p.PublicPort > 65535) {
		refuse(FieldPublicPort, "The port must be between 1 and 65535.")
	}
	if (p.CertFile == "") != (p.KeyFile == "") {
		refuse(FieldCertificate, "Give both the certificate file and its key file, or neither.")
		return
	}
	for _, f := range []string{p.CertFile, p.KeyFile} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			refuse(FieldCertificate, "The file cannot be read ("+err.Error()+"). Check the path.")
			return
		}
	}
}

// validHostName reports whether h may stand in a deployment link.
func validHostName(h string) bool {
	ok := true
	validatePairing(PairingSettings{ListenAddr: ":1", PublicHost: h}, func(SettingField, string) { ok = false })
	return ok
}

// IsLoopbackHost reports whether host names this computer itself.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// FollowListenPort clears a public port equal to the listen port's (older
// stations saved 8443 by default): no public port means the same link
// today, and links then follow a changed pairing address. The Settings page
// and the command line apply it to the settings they edit, so their next
// save stores it so.
func (s Settings) FollowListenPort() Settings {
	if _, lp, err := net.SplitHostPort(s.Pairing.ListenAddr); err == nil && lp == strconv.Itoa(s.Pairing.PublicPort) {
		s.Pairing.PublicPort = 0
	}
	return s
}

// Link returns the deployment link for token.
func (s *Station) Link(ctx context.Context, token string) (string, error) {
	set, err := s.Settings(ctx)
	if err != nil {
		return "", err
	}
	return s.joinLink(ctx, set.Pairing, token), nil
}

func linkFor(p PairingSettings, token string) string {
	port := p.PublicPort
	if port == 0 {
		_, lp, _ := net.SplitHostPort(p.ListenAddr)
		port, _ = strconv.Atoi(lp)
	}
	return "https://" + net.JoinHostPort(p.PublicHost, strconv.Itoa(port)) + "/join/" + token
}

// DetectPublicHost guesses the address end users' PCs can reach this
// station by: the IP address of the interface that carries the default
// route, else the computer's name, else "localhost". No packet is sent.
func DetectPublicHost() string {
	if c, err := net.Dial("udp", "192.0.2.1:9"); err == nil {
		ip := c.LocalAddr().(*net.UDPAddr).IP
		c.Close()
		if !ip.IsLoopback() && !ip.IsUnspecified() {
			return ip.String()
		}
	}
	if h, err := os.Hostname(); err == nil && validHostName(h) {
		return h
	}
	return "localhost"
}

// AdoptPublicHost sets the public host name used in deployment links on a
// station whose settings were never saved, so a fresh station does not
// email links to "localhost". It reports whether it changed anything and
// refuses a host that is not valid as ValidateSettings does.
func (s *Station) AdoptPublicHost(ctx context.Context, host string) (bool, error) {
	set := DefaultSettings()
	set.Pairing.PublicHost = host
	if err := ValidateSettings(set); err != nil {
		return false, err
	}
	raw, err := json.Marshal(set)
	if err != nil {
		return false, err
	}
	changed := false
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
			settingsKey, string(raw))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // settings were saved before: the technician's choice stands
		}
		changed = true
		return s.audit(tx, 0, 0, "settings saved", "public host name for links set at first start to "+host+" (change it in Settings)")
	})
	if err != nil || !changed {
		return false, err
	}
	s.publish(Event{Kind: EventSettings})
	return true, nil
}

// AdoptDetectedPublicHost is what every interface does on opening a
// station, the window at start and the command line before its command:
// AdoptPublicHost with DetectPublicHost's guess, unless that is only
// "localhost". It returns the guess and whether it was adopted.
func (s *Station) AdoptDetectedPublicHost(ctx context.Context) (string, bool, error) {
	host := DetectPublicHost()
	if host == "localhost" {
		return host, false, nil
	}
	ok, err := s.AdoptPublicHost(ctx, host)
	return host, ok, err
}
