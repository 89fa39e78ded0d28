//go:build !windows

package landing_test

import (
	"io/fs"
	"syscall"
	"testing"

	"adhocstation/core/wire/landing"
)

// A full disk and a used-up quota both read as a full disk, at either
// end; the station's own copy once missed the quota.
func TestDiskFull(t *testing.T) {
	for _, c := range []struct {
		err  error
		full bool
	}{
		{&fs.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}, true},
		{&fs.PathError{Op: "write", Path: "/x", Err: syscall.EDQUOT}, true},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.EACCES}, false},
		{nil, false},
	} {
		if got := landing.DiskFull(c.err); got != c.full {
			t.Errorf("DiskFull(%v) = %v, want %v", c.err, got, c.full)
		}
	}
}
