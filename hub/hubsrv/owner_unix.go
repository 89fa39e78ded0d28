//go:build unix

package hubsrv

import (
	"os"
	"syscall"
)

// giveToStateOwner makes paths belong to the owner of the state folder
// dir when root writes them: `sudo adhoc-hub enrol` next to a hub that
// runs as its own (or a systemd dynamic) user must leave a code that hub
// can read and remove.
func giveToStateOwner(dir string, paths ...string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	for _, p := range paths {
		if err := os.Chown(p, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
	}
	return nil
}
