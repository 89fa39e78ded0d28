package main

import (
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// TestTeamFlags: -team-listen starts the team node with its teams, and the
// keys it made are kept 0600 in the hub's state folder.
func TestTeamFlags(t *testing.T) {
	state := t.TempDir()
	fs := flag.NewFlagSet("adhoc-hub", flag.ContinueOnError)
	f := addTeamFlags(fs)
	if err := fs.Parse([]string{"-team-listen", "127.0.0.1:-1", "-teams", "acme=5,branch=2"}); err != nil {
		t.Fatal(err)
	}
	_, stop, err := startTeam(f, state, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	st, err := os.Stat(filepath.Join(state, "team", "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("keys.json is %v, want 0600", st.Mode().Perm())
	}
	fs = flag.NewFlagSet("adhoc-hub", flag.ContinueOnError)
	f = addTeamFlags(fs)
	if err := fs.Parse([]string{"-team-listen", "127.0.0.1:-1", "-teams", "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := startTeam(f, state, slog.New(slog.NewTextHandler(io.Discard, nil)), nil); err == nil {
		t.Fatal("-teams acme (no seat count) was accepted")
	}
}
