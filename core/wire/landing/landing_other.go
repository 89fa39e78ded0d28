//go:build !windows

package landing

import (
	"errors"
	"syscall"
)

// DiskFull says err is a full disk or an exceeded quota on this computer.
func DiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// setHidden: a name starting with "~" is as hidden as it gets here.
func setHidden(string, bool) {}
