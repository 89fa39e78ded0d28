package core

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The data folder holds email addresses, keyed hashes and sealed secrets,
// so it is its owner's alone. MkdirAll does not tighten a folder that
// already exists, so Open tightens it, and the station's files in it, each
// time: an older version, a copy or a restore may have left them open.

// makeDataDir creates the folder and, if new, the database file with mode
// 0600. SQLite would create the database 0644 (less the umask) and gives
// its -wal and -shm files the database's mode, so creating it first keeps
// all three private whatever the umask.
func makeDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the data folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, DatabaseFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create the station database: %w", err)
	}
	return f.Close()
}

// isStationFile reports whether name is one of the station's own files: the
// folder may be one the technician chose (--data), so other files in it
// are left alone.
func isStationFile(name string) bool {
	return strings.HasPrefix(name, DatabaseFile) || name == keyFileName ||
		(strings.HasPrefix(name, "pairing-") && strings.HasSuffix(name, ".pem"))
}

// tightenDataDir makes the folder 0700 and the station's files 0600. Its
// error is a warning: some file systems (FAT, network shares) have no
// such modes, and the station still works there.
func tightenDataDir(dir string) error {
	var errs []error
	if err := os.Chmod(dir, 0o700); err != nil {
		errs = append(errs, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isStationFile(e.Name()) {
			continue // never follow a link out of the folder
		}
		if err := os.Chmod(filepath.Join(dir, e.Name()), 0o600); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
