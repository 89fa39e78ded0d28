//go:build !windows

package support_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adhocstation/agent/support"
)

// The cleanup receipt says what happened to the app: when the uninstall
// fails it says so (not "app removed"), the record stays marked so the
// next start tries again, and that start removes the app and the record.
func TestReceiptTellsAppNotRemoved(t *testing.T) {
	r := newRig(t, windowsPC, nil, rightCode)
	r.rec.uninstallFails = 1
	r.start()
	r.waitStatus(support.TrayWaiting)
	r.rec.end <- struct{}{}
	if err := r.finished("ErrNotDone: the app is still installed"); !errors.Is(err, support.ErrNotDone) {
		t.Fatalf("Run = %v, want ErrNotDone while the app is left", err)
	}
	if r.audited("cleanup receipt", "app removed") {
		t.Error("the receipt says the app was removed although its removal failed")
	}
	if !r.audited("cleanup receipt", "the app could NOT be removed ("+errUninstall.Error()+")") {
		t.Error("the receipt does not say the app could not be removed, nor why")
	}
	if !r.audited("cleanup receipt", "signed out and deleted") {
		t.Error("the receipt no longer says the account was deleted")
	}
	_, _, told, accounts, _ := r.rec.snapshot()
	if len(accounts) != 0 {
		t.Errorf("accounts %v: the account must be gone whatever happens to the app", accounts)
	}
	if last := told[len(told)-1]; !last.Error || !strings.Contains(last.Text, "could not remove itself") {
		t.Errorf("the user was told %+v, want that the app could not remove itself", last)
	}
	b, err := os.ReadFile(filepath.Join(r.rec.stateDir, "session.json"))
	var st support.State
	if err != nil || json.Unmarshal(b, &st) != nil || !st.AppLeft {
		t.Fatalf("record %s (%v): want it kept, marked app_left", b, err)
	}
	if _, err := os.Stat(r.rec.installedExe()); err != nil {
		t.Fatalf("the recorder removed the installed copy although Uninstall failed: %v", err)
	}

	r.start() // the next start (a restart of the service, or the PC)
	if err := r.finished("nil: the app removed"); err != nil {
		t.Fatalf("Run = %v at the next start, want nil", err)
	}
	if _, err := os.Stat(r.rec.installedExe()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("installed copy kept after the retry: %v", err)
	}
	if _, err := os.Stat(filepath.Join(r.rec.stateDir, "session.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("record kept after the app went: %v", err)
	}
	calls, _, _, _, _ := r.rec.snapshot()
	if n := strings.Count(strings.Join(calls, ","), "uninstall"); n != 2 {
		t.Errorf("calls %v: want two uninstalls (the failed one and the retry)", calls)
	}
	if n := strings.Count(strings.Join(calls, ","), "delete AdHocRemoteUser"); n != 1 {
		t.Errorf("calls %v: the retry must not touch accounts again", calls)
	}
}

// A successful end's receipt is sent after the removal, and says so.
func TestReceiptAfterAppRemoved(t *testing.T) {
	r := waitingRig(t)
	r.rec.end <- struct{}{}
	r.checkCleanedUp(r.finished("nil, everything cleaned up"))
	if !r.audited("cleanup receipt", "app removed") {
		t.Error("the receipt does not say the app was removed")
	}
}
