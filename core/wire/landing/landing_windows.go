package landing

import (
	"errors"

	"golang.org/x/sys/windows"
)

// DiskFull says err is a full disk (or a handle's disk full) on this
// computer.
func DiskFull(err error) bool {
	return errors.Is(err, windows.ERROR_DISK_FULL) || errors.Is(err, windows.ERROR_HANDLE_DISK_FULL)
}

// setHidden sets or clears the hidden attribute: a partial file is hidden,
// so Explorer does not show it while it is written.
func setHidden(path string, hidden bool) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return
	}
	attrs, err := windows.GetFileAttributes(p)
	if err != nil {
		return
	}
	if hidden {
		attrs |= windows.FILE_ATTRIBUTE_HIDDEN
	} else {
		attrs &^= windows.FILE_ATTRIBUTE_HIDDEN
	}
	_ = windows.SetFileAttributes(p, attrs)
}
