//go:build unix

package core_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// checkPrivate fails for a data folder other than 0700 or any file in it
// other than 0600, and returns the names of the files it checked.
func checkPrivate(t *testing.T, dir string) map[string]bool {
	t.Helper()
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data folder mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "notes.txt" {
			continue // not the station's: see TestDataFolderTightenedOnOpen
		}
		seen[e.Name()] = true
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), fi.Mode().Perm())
		}
	}
	return seen
}

// TestDataFolderTightenedOnOpen: a station whose folder and files were
// left readable by everyone (an older version, a copy, a restore) is made
// private again when it opens.
func TestDataFolderTightenedOnOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "station")
	clock := coretest.NewClock(coretest.Start)
	st := coretest.OpenWith(t, dir, clock, nil)
	coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	st.Close()
	// What an older station left behind: everything world-readable, with
	// the WAL and the pairing certificate files too.
	for _, name := range []string{core.DatabaseFile + "-wal", core.DatabaseFile + "-shm", "pairing-key.pem", "pairing-cert.pem"} {
		if _, err := os.Stat(filepath.Join(dir, name)); os.IsNotExist(err) {
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A file of the technician's in a folder they chose with --data.
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if err := os.Chmod(filepath.Join(dir, e.Name()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	st = coretest.OpenWith(t, dir, clock, nil)
	if _, err := st.CreateProfile(t.Context(), "Eve", "eve@example.com"); err != nil {
		t.Fatal(err)
	}
	seen := checkPrivate(t, dir)
	for _, name := range []string{core.DatabaseFile, core.DatabaseFile + "-wal", "station.key", "pairing-key.pem"} {
		if !seen[name] {
			t.Errorf("%s was not there to check", name)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("a file that is not the station's was changed: %v, %v", fi.Mode().Perm(), err)
	}
}

// TestNewFilesPrivateUnderOpenUmask: with a umask that lets everyone read
// new files, the database and the -wal and -shm files SQLite creates are
// still 0600 (SQLite gives them the database file's mode).
func TestNewFilesPrivateUnderOpenUmask(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := filepath.Join(t.TempDir(), "station")
	st, err := core.Open(core.Config{DataDir: dir, Now: coretest.NewClock(coretest.Start).Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	seen := checkPrivate(t, dir)
	for _, name := range []string{core.DatabaseFile, core.DatabaseFile + "-wal", core.DatabaseFile + "-shm"} {
		if !seen[name] {
			t.Errorf("%s was not there to check", name)
		}
	}
}
