package core

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// privateDataDir makes the data folder readable by its owner only, on
// every open: MkdirAll does not tighten a folder that already exists, and
// the files hold email addresses, keyed hashes and sealed secrets. Files
// an older version, a copy or a restore left readable are tightened too.
func privateDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the data folder: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("make the data folder %s private: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read the data folder: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue // never follow a link out of the folder
		}
		if err := os.Chmod(filepath.Join(dir, e.Name()), 0o600); err != nil {
			return fmt.Errorf("make %s private: %w", e.Name(), err)
		}
	}
	// SQLite creates the database with 0644 (less the umask) and gives its
	// -wal and -shm files the database's mode: creating it ourselves first
	// keeps all three private whatever the umask.
	f, err := os.OpenFile(filepath.Join(dir, DatabaseFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create the station database: %w", err)
	}
	return f.Close()
}
