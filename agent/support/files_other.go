//go:build !windows

package support

import (
	"errors"
	"syscall"

	"adhocstation/core/wire"
)

// listDrives: a system without drive letters has one root.
func listDrives() ([]wire.Drive, error) {
	d := wire.Drive{Path: "/", Kind: "fixed"}
	var st syscall.Statfs_t
	if syscall.Statfs("/", &st) == nil {
		d.Total, d.Free = st.Blocks*uint64(st.Bsize), st.Bavail*uint64(st.Bsize)
	}
	return []wire.Drive{d}, nil
}

func inUse(err error) bool { return errors.Is(err, syscall.ETXTBSY) }
