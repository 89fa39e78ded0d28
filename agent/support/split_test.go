//go:build !windows

package support_test

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
)

// The setup questions (consent, code) are answered only by an elevated
// administrator's process: a standard user's program that connects to the
// pipe as "setup" is refused, and nothing is paired or created.
func TestSetupFromStandardUserRefused(t *testing.T) {
	r := newRig(t, windowsPC, nil, rightCode)
	r.who = func(c net.Conn) (support.Caller, error) { return support.Caller{User: "anna", Admin: false}, nil }
	r.whoAdmin = false
	r.start()
	coretest.Await(t, r.helpers[0], "the setup helper to be sent away")
	coretest.Receive(t, r.agent.armed, "the consent question to wait for a setup helper")
	r.agent.Advance(2 * time.Minute) // nobody answers it
	if err := r.finished("support.ErrCancelled: no administrator answered"); err != support.ErrCancelled {
		t.Fatalf("Run = %v, want ErrCancelled", err)
	}
	_, _, told, accounts, _ := r.rec.snapshot()
	if len(accounts) != 0 || !slices.ContainsFunc(told, func(m support.Message) bool { return strings.Contains(m.Text, "Only an administrator") }) {
		t.Errorf("accounts %v, told %+v: want nothing created and the setup refused", accounts, told)
	}
	if s := r.session(); s.State != core.StatePrepared {
		t.Errorf("session %s, want still prepared", s.State)
	}
}

// A second copy (the download run again while a session runs) is told a
// session is already running; a second tray (another signed-in user) sees
// the same session; the session goes on.
func TestSecondCopy(t *testing.T) {
	r := newRig(t, windowsPC, nil, rightCode)
	r.start()
	r.waitStatus(support.TrayWaiting)
	second := newRecorder(t.TempDir(), []byte("MZ"), windowsPC, "123456789")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := coretest.Receive(t, r.helper(ctx, support.RoleSetup, second), "the second setup helper to be sent away"); err != nil {
		t.Fatalf("second setup helper: %v", err)
	}
	calls, _, told, _, _ := second.snapshot()
	if len(calls) != 0 || len(told) != 1 || !strings.Contains(told[0].Text, "already running") {
		t.Errorf("second copy: calls %v told %+v; want only the already-running notice", calls, told)
	}
	otherUser := newRecorder(t.TempDir(), []byte("MZ"), windowsPC)
	r.helper(ctx, support.RoleTray, otherUser)
	select {
	case s := <-otherUser.status:
		if s.State != support.TrayWaiting || s.Technician.Name != "Ana Tech" {
			t.Errorf("second tray shows %+v", s)
		}
	case <-time.After(coretest.WaitLimit):
		t.Fatalf("the second tray saw no status in %v", coretest.WaitLimit)
	}
	otherUser.end <- struct{}{} // any tray may end it
	r.checkCleanedUp(r.finished("nil after the second tray ended it"))
}
