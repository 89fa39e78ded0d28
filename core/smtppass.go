package core

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"

	"github.com/zalando/go-keyring"
)

// The SMTP password lives in the OS keyring (Windows Credential Manager,
// macOS Keychain, the Secret Service on Linux) when one answers; otherwise
// it is sealed with the station key in the secrets table. A marker row
// records which, so reading it never guesses.
const (
	secretSMTPSealed  = "smtp_password"         // sealed copy
	secretSMTPKeyring = "smtp_password_keyring" // marker: it is in the keyring
	keyringService    = "Ad Hoc Support Station"
	// KeyringEnv set to "off" keeps the SMTP password out of the OS keyring
	// (sealed in the database instead); tests use it so they never touch a
	// developer's real keyring and always take the same path.
	KeyringEnv = "ADHOCSTATION_KEYRING"
)

func useKeyring() bool { return os.Getenv(KeyringEnv) != "off" }

// keyringUser tells stations in different data folders apart.
func (s *Station) keyringUser() string {
	dir, err := filepath.Abs(s.dir)
	if err != nil {
		dir = s.dir
	}
	return "SMTP password for " + dir
}

// SetSMTPPassword keeps the SMTP password in the OS keyring when one is
// available, otherwise sealed with the station key; "" forgets it. The
// password is never written in plain text. It publishes EventSettings and
// wakes the outbox.
func (s *Station) SetSMTPPassword(ctx context.Context, password string) error {
	where := "forgotten"
	inKeyring := false
	if password != "" && useKeyring() {
		if err := keyring.Set(keyringService, s.keyringUser(), password); err != nil {
			s.log.Info("no usable OS keyring; sealing the SMTP password in the database", "err", err)
		} else {
			inKeyring, where = true, "kept in the system keyring"
		}
	}
	var sealed []byte
	if password != "" && !inKeyring {
		var err error
		if sealed, err = s.keys.sealWith([]byte(password), []byte(secretSMTPSealed)); err != nil {
			return err
		}
		where = "sealed in the station database"
	}
	if password == "" && useKeyring() {
		// Best effort: there may be nothing there.
		keyring.Delete(keyringService, s.keyringUser())
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM secrets WHERE name IN (?, ?)`, secretSMTPSealed, secretSMTPKeyring); err != nil {
			return err
		}
		switch {
		case inKeyring:
			// The marker's content is irrelevant; sealing keeps the column's meaning.
			marker, err := s.keys.sealWith([]byte("keyring"), []byte(secretSMTPKeyring))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO secrets (name, sealed) VALUES (?, ?)`, secretSMTPKeyring, marker); err != nil {
				return err
			}
		case sealed != nil:
			if _, err := tx.ExecContext(ctx, `INSERT INTO secrets (name, sealed) VALUES (?, ?)`, secretSMTPSealed, sealed); err != nil {
				return err
			}
		}
		return s.audit(tx, 0, 0, "SMTP password changed", where)
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
	var n int
	err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM secrets WHERE name IN (?, ?)`, secretSMTPSealed, secretSMTPKeyring).Scan(&n)
	return err == nil && n > 0
}

// smtpPassword reads the stored password; "" when none is stored.
func (s *Station) smtpPassword(ctx context.Context) (string, error) {
	var name string
	var sealed []byte
	err := s.rdb.QueryRowContext(ctx, `SELECT name, sealed FROM secrets WHERE name IN (?, ?) ORDER BY name LIMIT 1`,
		secretSMTPSealed, secretSMTPKeyring).Scan(&name, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if name == secretSMTPKeyring {
		pw, err := keyring.Get(keyringService, s.keyringUser())
		if err != nil {
			return "", Errorf("smtp_password_keyring", "The SMTP password cannot be read from the system keyring (%w). Unlock the keyring, or enter the password again in Settings.", err)
		}
		return pw, nil
	}
	pw, err := s.keys.unsealWith(sealed, []byte(secretSMTPSealed))
	if err != nil {
		return "", Errorf("smtp_password_sealed", "The stored SMTP password cannot be unsealed (was the station key replaced?). Enter the password again in Settings.")
	}
	return string(pw), nil
}
