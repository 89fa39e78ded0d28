package support

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"time"
	"unicode"
)

// State is what the app keeps on disk while a session runs, so that after a
// restart or a killed process it can still remove the account and tell the
// station. It never holds the password, and it names no file: what runs and
// what is deleted are fixed by the System, so a planted record cannot point
// the elevated app at anything.
type State struct {
	StationURL string    `json:"station_url"`
	Pins       []string  `json:"pins"`
	AgentKey   string    `json:"agent_key"` // lets a restarted app send heartbeat, end and cleanup
	SessionID  int64     `json:"session_id"`
	Technician string    `json:"technician"`
	TechEmail  string    `json:"technician_email"`
	Account    string    `json:"account"`
	ExpiresAt  time.Time `json:"expires_at"` // PC's local clock
	// AccountSID is kept from the account's creation on, so that a profile
	// Windows would not delete yet can still be removed after the account
	// (and with it the name-to-SID lookup) is gone.
	AccountSID string `json:"account_sid,omitempty"`
	// AccountReady is set once the account exists, hidden, in Administrators;
	// a record without it means the app was stopped while creating it.
	AccountReady bool `json:"account_ready"`
	Confirmed    bool `json:"confirmed"`
	// ProfileLeft means the session is over and the account deleted, but its
	// profile folder could not be removed yet: the next start retries.
	ProfileLeft bool `json:"profile_left,omitempty"`
	// AppLeft means the account and its profile are gone but the app could
	// not uninstall itself: the next start tries again.
	AppLeft bool `json:"app_left,omitempty"`
	// Hub and RelayToken, when set, are the relay hub the station is
	// reached through and the token for it (exp: the session's end).
	Hub        string `json:"hub,omitempty"`
	RelayToken string `json:"relay_token,omitempty"`
	// TeamPins are the pins of the other stations of the owner's team, as
	// the owner last listed them on the live channel (wire.TeamPinsHeader):
	// one of them may serve the channel for a teammate (a take over).
	TeamPins []string `json:"team_pins,omitempty"`
}

const stateFile = "session.json"

// maxSession bounds a recorded expiry: a record may not keep an account
// longer than one session (plus clock slack), whoever wrote it.
const maxSession = 25 * time.Hour

var (
	sidPattern      = regexp.MustCompile(`^S-1-5-21(-[0-9]{1,10}){4}$`)
	agentKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_\-+/=.]{16,200}$`)
	// relayTokenPattern: base64url "." base64url, as hublink.ReadToken reads.
	relayTokenPattern = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,900}\.[A-Za-z0-9_\-]{86}$`)
)

// ErrBadRecord means the state file is readable but a value in it is not
// one this app writes.
var ErrBadRecord = errors.New("the session record holds a value this app never writes")

// validate checks every value read back from disk before it is used: the
// folder is admin-only, but a record is still input.
func (s State) validate(now time.Time) error {
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrBadRecord, what) }
	if s.Account != AccountName {
		return bad("account name")
	}
	if u, err := url.Parse(s.StationURL); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return bad("station address")
	}
	if len(s.Pins) == 0 || len(s.Pins) > 2 {
		return bad("pins")
	}
	for _, p := range s.Pins {
		if raw, err := base64.StdEncoding.DecodeString(p); err != nil || len(raw) != sha256.Size {
			return bad("pins")
		}
	}
	if checkTeamPins(s.TeamPins) != nil {
		return bad("team pins")
	}
	if !agentKeyPattern.MatchString(s.AgentKey) {
		return bad("agent key")
	}
	if s.SessionID < 0 {
		return bad("session number")
	}
	if !printable(s.Technician, 200) || !printable(s.TechEmail, 320) {
		return bad("technician")
	}
	if s.ExpiresAt.IsZero() || s.ExpiresAt.After(now.Add(maxSession)) {
		return bad("expiry")
	}
	if s.AccountSID != "" && !sidPattern.MatchString(s.AccountSID) {
		return bad("account SID")
	}
	if s.Hub != "" {
		if u, err := url.Parse(s.Hub); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Path != "" {
			return bad("hub address")
		}
		if !relayTokenPattern.MatchString(s.RelayToken) {
			return bad("relay token")
		}
	}
	return nil
}

func printable(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// loadState reads the state file; ok is false when there is none.
func loadState(dir string) (State, bool, error) {
	var s State
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return s, false, err
	}
	if len(b) > 64<<10 {
		return s, false, fmt.Errorf("%w: %d bytes", ErrBadRecord, len(b))
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, false, err
	}
	return s, true, nil
}

// saveState writes the state file atomically (temp file, then rename), so a
// crash leaves either the old or the new state. The file is created by
// App.WriteFile (on Windows: with an explicit admin-only descriptor).
func (a *App) saveState(dir string, s State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	write := a.WriteFile
	if write == nil {
		write = func(name string, data []byte) error { return os.WriteFile(name, data, 0o600) }
	}
	tmp := filepath.Join(dir, stateFile+".tmp")
	if err := write(tmp, b); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, stateFile))
}

func removeState(dir string) error {
	err := os.Remove(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
