package core

import (
	"context"
	"database/sql"
	"errors"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CreateProfile adds a technician profile. It returns ErrInvalidName, an
// *EmailError or ErrProfileExists.
func (s *Station) CreateProfile(ctx context.Context, name, email string) (Profile, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return Profile{}, ErrInvalidName
	}
	addr, err := ParseEmail(email)
	if err != nil {
		return Profile{}, err
	}
	p := Profile{Name: name, Email: addr, CreatedAt: s.now().Truncate(1e6)}
	err = s.write(ctx, func(tx *sql.Tx) error {
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM profiles WHERE email = ?`, addr).Scan(&exists); err != nil {
			return err
		}
		if exists > 0 {
			return ErrProfileExists
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO profiles (name, email, created_at) VALUES (?, ?, ?)`, name, addr, ms2(p.CreatedAt))
		if err != nil {
			return err
		}
		if p.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		return s.audit(tx, p.ID, 0, "profile added", name+" <"+addr+">")
	})
	if err != nil {
		return Profile{}, err
	}
	s.publish(Event{Kind: EventProfiles})
	return p, nil
}

// Profiles lists the technician profiles by name.
func (s *Station) Profiles(ctx context.Context) ([]Profile, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, name, email, created_at FROM profiles ORDER BY name COLLATE NOCASE, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Profile
	for rows.Next() {
		var p Profile
		var at sql.NullInt64
		if err := rows.Scan(&p.ID, &p.Name, &p.Email, &at); err != nil {
			return nil, err
		}
		p.CreatedAt = fromMS(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Station) profile(ctx context.Context, q queryer, id int64) (Profile, error) {
	var p Profile
	var at sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT id, name, email, created_at FROM profiles WHERE id = ?`, id).Scan(&p.ID, &p.Name, &p.Email, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrProfileNotFound
	}
	p.CreatedAt = fromMS(at)
	return p, err
}

// ParseEmail checks a single bare address with RFC 5322 parsing and returns
// it without any display name. It returns an *EmailError.
func ParseEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", &EmailError{}
	}
	a, err := mail.ParseAddress(email)
	if err != nil {
		return "", &EmailError{Address: email, Reason: strings.TrimPrefix(err.Error(), "mail: ")}
	}
	if a.Name != "" || a.Address != email {
		return "", &EmailError{Address: email, Reason: "type only the address, without a name or angle brackets"}
	}
	domain := a.Address[strings.LastIndexByte(a.Address, '@')+1:]
	if !strings.Contains(domain, ".") && domain != "localhost" {
		return "", &EmailError{Address: email, Reason: "the part after @ needs a domain such as example.com"}
	}
	return a.Address, nil
}

// MinPasswordLength is the shortest technician password accepted.
const MinPasswordLength = 10

// ValidatePassword applies the password rules for a session for email. It
// returns a *PasswordError whose text names the rule that failed.
func (s *Station) ValidatePassword(email, password string) error {
	return validatePassword(email, password)
}

func validatePassword(email, password string) error {
	// A NUL ends the string on the Windows side (the account would get a
	// shorter or blank password); tabs and line breaks cannot be typed at
	// the sign-in screen.
	if strings.IndexFunc(password, unicode.IsControl) >= 0 {
		return &PasswordError{Rule: "The password must not contain control characters such as tabs, line breaks or NUL. Use letters, digits, spaces and symbols."}
	}
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return &PasswordError{Rule: "The password needs at least 10 characters."}
	}
	if len(password) > 127 {
		// Windows refuses longer local account passwords.
		return &PasswordError{Rule: "The password can have at most 127 characters."}
	}
	if at := strings.LastIndexByte(email, '@'); at > 0 {
		local := strings.ToLower(strings.TrimSpace(email[:at]))
		if len(local) >= 3 && strings.Contains(strings.ToLower(password), local) {
			return &PasswordError{Rule: "The password must not contain the user's email name (" + local + ")."}
		}
	}
	return nil
}
