package landing

import (
	"os"
	"path/filepath"
)

// WriteFile writes a small file whole or not at all, as a transfer lands:
// a temporary file beside path with mode, synced, then renamed over path,
// so a crash never leaves a half-written key or state file behind. The
// station's pairing certificate and the hub's state and team keys use it.
func WriteFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
