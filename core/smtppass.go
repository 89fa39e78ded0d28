package core

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"

	"github.com/zalando/go-keyring"
)

// The SMTP secrets (the password, an OAuth client secret, a Google service
// account key) live in the OS keyring (Windows Credential Manager, macOS
// Keychain, the Secret Service on Linux) when one answers; otherwise they
// are sealed with the station key in the secrets table. A marker row
// records which, so reading one never guesses.
type smtpSecret struct {
	sealed, keyring string // secrets table names: the sealed copy, the keyring marker
	label           string // what it is, in the audit log and in messages
	field           SettingField
}

var (
	secretPassword     = smtpSecret{"smtp_password", "smtp_password_keyring", "SMTP password", "SMTP password"}
	secretClientSecret = smtpSecret{"smtp_oauth_client_secret", "smtp_oauth_client_secret_keyring", "SMTP client secret", FieldClientSecret}
	secretClientCert   = smtpSecret{"smtp_oauth_client_cert", "smtp_oauth_client_cert_keyring", "SMTP client certificate", FieldClientCertificate}
	secretGoogleKey    = smtpSecret{"smtp_google_key", "smtp_google_key_keyring", "Google service account key", FieldServiceAccountKey}
)

const (
	keyringService = "Ad Hoc Support Station"
	// KeyringEnv set to "off" keeps the SMTP secrets out of the OS keyring
	// (sealed in the database instead); tests use it so they never touch a
	// developer's real keyring and always take the same path.
	KeyringEnv = "ADHOCSTATION_KEYRING"
)

func useKeyring() bool { return os.Getenv(KeyringEnv) != "off" }

// keyringUser tells secrets and stations in different data folders apart.
func (s *Station) keyringUser(sec smtpSecret) string {
	dir, err := filepath.Abs(s.dir)
	if err != nil {
		dir = s.dir
	}
	return sec.label + " for " + dir
}

// SetSMTPPassword keeps the SMTP password in the OS keyring when one is
// available, otherwise sealed with the station key; "" forgets it. The
// password is never written in plain text. It publishes EventSettings and
// wakes the outbox.
func (s *Station) SetSMTPPassword(ctx context.Context, password string) error {
	return s.setSMTPSecret(ctx, secretPassword, password, "")
}

// setSMTPSecret stores (or with "" forgets) one SMTP secret and, in the same
// transaction, audits it with note added.
func (s *Station) setSMTPSecret(ctx context.Context, sec smtpSecret, password, note string) error {
	where := "forgotten"
	inKeyring := false
	if password != "" && useKeyring() {
		if err := keyring.Set(keyringService, s.keyringUser(sec), password); err != nil {
			s.log.Info("no usable OS keyring; sealing the "+sec.label+" in the database", "err", err)
		} else {
			inKeyring, where = true, "kept in the system keyring"
		}
	}
	var sealed []byte
	if password != "" && !inKeyring {
		var err error
		if sealed, err = s.keys.sealWith([]byte(password), []byte(sec.sealed)); err != nil {
			return err
		}
		where = "sealed in the station database"
	}
	if password == "" && useKeyring() {
		// Best effort: there may be nothing there.
		keyring.Delete(keyringService, s.keyringUser(sec))
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM secrets WHERE name IN (?, ?)`, sec.sealed, sec.keyring); err != nil {
			return err
		}
		switch {
		case inKeyring:
			// The marker's content is irrelevant; sealing keeps the column's meaning.
			marker, err := s.keys.sealWith([]byte("keyring"), []byte(sec.keyring))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO secrets (name, sealed) VALUES (?, ?)`, sec.keyring, marker); err != nil {
				return err
			}
		case sealed != nil:
			if _, err := tx.ExecContext(ctx, `INSERT INTO secrets (name, sealed) VALUES (?, ?)`, sec.sealed, sealed); err != nil {
				return err
			}
		}
		return s.audit(tx, 0, 0, sec.label+" changed", where+note)
	})
	if err != nil {
		return err
	}
	s.publish(Event{Kind: EventSettings})
	s.wakeOutbox()
	return nil
}

// HasSMTPPassword reports whether an SMTP password is stored.
func (s *Station) HasSMTPPassword(ctx context.Context) bool {
	return s.hasSMTPSecret(ctx, secretPassword)
}

func (s *Station) hasSMTPSecret(ctx context.Context, sec smtpSecret) bool {
	var n int
	err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM secrets WHERE name IN (?, ?)`, sec.sealed, sec.keyring).Scan(&n)
	return err == nil && n > 0
}

// smtpPassword reads the stored password; "" when none is stored.
func (s *Station) smtpPassword(ctx context.Context) (string, error) {
	return s.smtpSecret(ctx, secretPassword)
}

// smtpSecret reads one stored secret; "" when none is stored.
func (s *Station) smtpSecret(ctx context.Context, sec smtpSecret) (string, error) {
	var name string
	var sealed []byte
	err := s.rdb.QueryRowContext(ctx, `SELECT name, sealed FROM secrets WHERE name IN (?, ?) ORDER BY name LIMIT 1`,
		sec.sealed, sec.keyring).Scan(&name, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if name == sec.keyring {
		pw, err := keyring.Get(keyringService, s.keyringUser(sec))
		if err != nil {
			return "", Errorf(sec.sealed+"_keyring", "The %s cannot be read from the system keyring (%w). Unlock the keyring, or enter it again in Settings.", sec.label, err)
		}
		return pw, nil
	}
	pw, err := s.keys.unsealWith(sealed, []byte(sec.sealed))
	if err != nil {
		return "", Errorf(sec.sealed+"_sealed", "The stored %s cannot be unsealed (was the station key replaced?). Enter it again in Settings.", sec.label)
	}
	return string(pw), nil
}
