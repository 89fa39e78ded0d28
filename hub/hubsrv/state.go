package hubsrv

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"adhocstation/core/wire/landing"
)

// CodeLifetime is how long an enrolment code printed by `adhoc-hub enrol`
// can be redeemed.
const CodeLifetime = 24 * time.Hour

// station is what the hub keeps about an enrolled station: never the
// credential itself, only its hash.
type station struct {
	Name       string    `json:"name"`
	PublicKey  []byte    `json:"public_key"`
	SecretHash string    `json:"secret_hash"` // hex SHA-256 of the credential's secret
	Enrolled   time.Time `json:"enrolled"`
	// Team is the team the station's code was printed for (adhoc-hub enrol
	// -team NAME); "" when it belongs to none.
	Team string `json:"team,omitempty"`
	// TeamKeys are the NATS user public keys the hub signed JWTs for, so a
	// revocation can name them.
	TeamKeys []string `json:"team_keys,omitempty"`
	// Revoked is when the admin revoked the station (adhoc-hub revoke).
	Revoked time.Time `json:"revoked,omitzero"`
}

type stateFile struct {
	Stations map[string]*station `json:"stations"`
	// onSave, if set, is told after each save (under Server.mu: it must
	// not block): a cluster node then shares the change (cluster.go).
	onSave func()
}

func hashHex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// randomText is n random bytes in unpadded base32: 16 bytes (128 bits) for
// codes and secrets, far above the 64 bits below which NIST SP 800-63B asks
// for attempt limits, so a plain SHA-256 is enough to store them.
func randomText(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics on a broken source)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// NewCode writes a one-time enrolment code into dir and returns it. Each
// code is a file named by its hash under dir/codes, holding its expiry: the
// admin's `adhoc-hub enrol` runs in another process than the hub, and
// redeeming is one os.Remove, so a code cannot be redeemed twice without
// any lock between the two processes.
func NewCode(dir string, now time.Time) (string, error) { return NewTeamCode(dir, now, "") }

// NewTeamCode is NewCode for a station of team teamID ("" for none): the
// station redeeming it belongs to that team. The code file holds the expiry
// on its first line and the team on its second.
func NewTeamCode(dir string, now time.Time, teamID string) (string, error) {
	if strings.ContainsAny(teamID, "\r\n") {
		return "", fmt.Errorf("the team name %q is not valid", teamID)
	}
	cd := filepath.Join(dir, "codes")
	if err := os.MkdirAll(cd, 0o700); err != nil {
		return "", fmt.Errorf("the hub's state folder %s cannot be written (%w); run as the hub's user or pass -state", dir, err)
	}
	code := randomText(16)
	exp := now.Add(CodeLifetime).UTC().Format(time.RFC3339)
	if teamID != "" {
		exp += "\n" + teamID
	}
	f := filepath.Join(cd, hashHex(code))
	if err := os.WriteFile(f, []byte(exp), 0o600); err != nil {
		return "", err
	}
	if err := giveToStateOwner(dir, cd, f); err != nil {
		os.Remove(f)
		return "", fmt.Errorf("the code could not be handed to the owner of %s (%w); run adhoc-hub enrol as the hub's user", dir, err)
	}
	return code, nil
}

// redeemCode burns code and reports whether it was valid, and the team it
// was printed for. Remove first: whoever removes the file owns the code.
func redeemCode(dir, code string, now time.Time) (teamID string, ok bool) {
	if code == "" || len(code) > 64 {
		return "", false
	}
	p := filepath.Join(dir, "codes", hashHex(strings.ToLower(strings.TrimSpace(code))))
	b, err := os.ReadFile(p)
	if err != nil || os.Remove(p) != nil {
		return "", false
	}
	first, teamID, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	exp, err := time.Parse(time.RFC3339, strings.TrimSpace(first))
	return strings.TrimSpace(teamID), err == nil && now.Before(exp)
}

func loadState(dir string) (*stateFile, error) {
	st := &stateFile{Stations: map[string]*station{}}
	b, err := os.ReadFile(filepath.Join(dir, "stations.json"))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("the hub's state file %s is damaged: %w", filepath.Join(dir, "stations.json"), err)
	}
	if st.Stations == nil {
		st.Stations = map[string]*station{}
	}
	return st, nil
}

// save writes the state atomically (temp file, fsync, rename), mode 0600.
func (st *stateFile) save(dir string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := landing.WriteFile(filepath.Join(dir, "stations.json"), b, 0o600); err != nil {
		return err
	}
	if st.onSave != nil {
		st.onSave()
	}
	return nil
}
