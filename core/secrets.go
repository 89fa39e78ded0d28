package core

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/argon2"
)

// keyFileName holds the station's master key. It lives beside, never inside,
// the database file, so a copy of station.db alone reveals no secret.
const keyFileName = "station.key"

// keys are derived from the master key so that each use has its own key.
type keys struct {
	seal  []byte // AES-256-GCM for sealed copies
	code  []byte // HMAC for security codes and agent keys
	audit []byte // HMAC for the audit chain
}

func loadOrCreateKeys(dir string) (keys, error) {
	path := filepath.Join(dir, keyFileName)
	master, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		master = make([]byte, 32)
		if _, err := rand.Read(master); err != nil {
			return keys{}, err
		}
		// O_EXCL: two stations starting at once must not overwrite each other's key.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return keys{}, fmt.Errorf("create the station key %s: %w", path, err)
		}
		if _, err := f.Write(master); err != nil {
			f.Close()
			return keys{}, err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return keys{}, err
		}
		if err := f.Close(); err != nil {
			return keys{}, err
		}
	} else if err != nil {
		return keys{}, fmt.Errorf("read the station key %s: %w", path, err)
	}
	if len(master) != 32 {
		return keys{}, fmt.Errorf("the station key %s is damaged (expected 32 bytes); restore it from a backup", path)
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, master)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	return keys{seal: derive("seal"), code: derive("code"), audit: derive("audit")}, nil
}

// seal encrypts plain with AES-256-GCM; aad binds it to its owner (a token).
func (k keys) sealWith(plain, aad []byte) ([]byte, error) {
	block, err := aes.NewCipher(k.seal)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plain, aad), nil
}

func (k keys) unsealWith(sealed, aad []byte) ([]byte, error) {
	block, err := aes.NewCipher(k.seal)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, errors.New("sealed value is too short")
	}
	return gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], aad)
}

// mac is the keyed hash used for codes and agent keys: without the key file
// a 9-digit code cannot be brute-forced from the database.
func (k keys) mac(kind, value string) []byte {
	m := hmac.New(sha256.New, k.code)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// newCode returns nine random digits.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%09d", n.Int64()), nil
}

// FormatCode groups nine digits as "482 193 657".
func FormatCode(digits string) string {
	if len(digits) != 9 {
		return digits
	}
	return digits[:3] + " " + digits[3:6] + " " + digits[6:]
}

// normalizeCode accepts what people type: spaces, dashes and dots are ignored.
func normalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, code)
}

// newToken returns 128 random bits, URL-safe.
func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Argon2id parameters from DESIGN.md (above OWASP's 19 MiB / t=2 minimum).
const (
	argonTime    = 2
	argonMemory  = 64 * 1024
	argonThreads = 4
	argonKeyLen  = 32
)

// hashPassword returns an encoded argon2id hash.
func hashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// newAgentKey returns a random secret the paired app authenticates with.
func newAgentKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
