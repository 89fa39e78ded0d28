package winsys

import (
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"

	"adhocstation/agent/support"
)

// The screen helper's log, next to the service's in the admin-only state
// folder: at most screenLogMax bytes, and the one before it moved aside
// (so at most 512 KB in all). Uninstall deletes both.
const (
	screenLogName    = "screen.log"
	screenOldLogName = "screen.old.log"
	screenLogMax     = 256 << 10
)

// OpenScreenLog returns the screen helper's log. It never holds secrets:
// technicians' names, views started and stopped, desktop switches, errors.
func OpenScreenLog() (*support.RotatingLog, error) {
	dir, err := New().StateDir() // created admin-only, or checked to be
	if err != nil {
		return nil, err
	}
	path, old := filepath.Join(dir, screenLogName), filepath.Join(dir, screenOldLogName)
	return &support.RotatingLog{Max: screenLogMax,
		Open: func() (io.WriteCloser, int64, error) {
			f, err := CreateLog(path)
			if err != nil {
				return nil, 0, err
			}
			// By name: the append-only handle may not read attributes.
			st, err := os.Lstat(path)
			if err != nil {
				f.Close()
				return nil, 0, err
			}
			return f, st.Size(), nil
		},
		Rotate: func() error {
			return windows.MoveFileEx(wptr(path), wptr(old), windows.MOVEFILE_REPLACE_EXISTING)
		},
	}, nil
}
