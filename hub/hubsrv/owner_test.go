//go:build unix

package hubsrv_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"adhocstation/hub/hubsrv"
)

// TestEnrolAsRootGivesCodeToHubUser: root printing a code for a hub that
// runs as another user (systemd DynamicUser) leaves the code and its
// folder owned by the state folder's owner, so that hub can redeem it.
func TestEnrolAsRootGivesCodeToHubUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to hand files to another user")
	}
	state := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	const uid, gid = 61234, 61235
	if err := os.Chown(state, uid, gid); err != nil {
		t.Fatal(err)
	}
	if _, err := hubsrv.NewCode(state, time.Now()); err != nil {
		t.Fatal(err)
	}
	codes, _ := filepath.Glob(filepath.Join(state, "codes", "*"))
	for _, p := range append(codes, filepath.Join(state, "codes")) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != uid || st.Gid != gid {
			t.Errorf("%s owned by %d:%d, want the state folder's %d:%d", p, st.Uid, st.Gid, uid, gid)
		}
	}
	if len(codes) != 1 {
		t.Fatalf("%d codes", len(codes))
	}
}
