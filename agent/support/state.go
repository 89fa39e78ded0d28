package support

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"
)

// State is what the app keeps on disk while a session runs, so that after a
// restart or a killed process it can still remove the account and tell the
// station. It never holds the password: the account already exists by then,
// and deleting it needs only its name.
type State struct {
	StationURL string    `json:"station_url"`
	Pins       []string  `json:"pins"`
	AgentKey   string    `json:"agent_key"` // lets a restarted app send heartbeat, end and cleanup
	SessionID  int64     `json:"session_id"`
	Technician string    `json:"technician"`
	TechEmail  string    `json:"technician_email"`
	Account    string    `json:"account"`
	ExpiresAt  time.Time `json:"expires_at"` // PC's local clock
	// AccountReady is set once the account exists and is hidden; a record
	// without it means the app was stopped while creating the account.
	AccountReady bool   `json:"account_ready"`
	Confirmed    bool   `json:"confirmed"`
	Exe          string `json:"exe"`
}

const stateFile = "session.json"

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
	if err := json.Unmarshal(b, &s); err != nil {
		return s, false, err
	}
	return s, true, nil
}

// saveState writes the state file atomically (temp file, then rename), so a
// crash leaves either the old or the new state.
func saveState(dir string, s State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
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
