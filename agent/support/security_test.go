//go:build !windows

package support_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

// Elevation through the download: what runs elevated after a restart, and
// what is deleted as administrator at the end, must be the installed copy,
// never the file in the user's Downloads folder (which any program of that
// user can swap).
func TestDownloadedFileNeverRunsOrIsDeletedElevated(t *testing.T) {
	r := waitingRig(t)
	if b, err := os.ReadFile(r.rec.installedExe()); err != nil || len(b) == 0 {
		t.Errorf("no installed copy in the admin-only folder (%v): after a restart Windows would run the download", err)
	}
	r.rec.end <- struct{}{}
	if err := r.finished("nil after the user ends it"); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if _, err := os.Stat(r.rec.exe); err != nil {
		t.Errorf("the app deleted the user's downloaded file as administrator (a junction there redirects the delete): %v", err)
	}
	calls, _, _, _, _ := r.rec.snapshot()
	for _, c := range calls {
		if strings.Contains(c, r.rec.exe) {
			t.Errorf("call %q uses the downloaded file's path", c)
		}
	}
}

// A planted session record: a session.json put in the state folder
// (ordinary users may create folders under %ProgramData%) must not make the
// app run or delete anything it names.
func TestPlantedRecordRunsNothing(t *testing.T) {
	rec := newRecorder(t.TempDir(), []byte("MZ"), windowsPC)
	planted := `{"station_url":"x","account":"AdHocRemoteUser","exe":"C:\\Users\\anna\\x.exe\" & calc.exe & \""}`
	if err := os.WriteFile(filepath.Join(rec.stateDir, "session.json"), []byte(planted), 0o600); err != nil {
		t.Fatal(err)
	}
	app := &support.App{Sys: rec, UI: rec, Clock: newFakeClock(time.Unix(0, 0))}
	_ = app.Run(context.Background())
	calls, _, _, _, _ := rec.snapshot()
	for _, c := range calls {
		if strings.Contains(c, "calc") || strings.Contains(c, "x.exe") {
			t.Errorf("call %q passes a value from the planted record to Windows", c)
		}
	}
}

// A planted state folder: one this app did not make (another owner, or a
// link to a folder the user controls) is deleted unread and made again; the
// session then starts fresh.
func TestUntrustedStateFolderRecreated(t *testing.T) {
	for name, plant := range map[string]func(t *testing.T, dir, record string){
		"another owner": func(t *testing.T, dir, record string) {
			if os.Getuid() != 0 {
				t.Skip("changing a folder's owner needs root")
			}
			write(t, filepath.Join(dir, "session.json"), record)
			if err := os.Chown(dir, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		},
		"link elsewhere": func(t *testing.T, dir, record string) {
			users := t.TempDir()
			write(t, filepath.Join(users, "session.json"), record)
			if err := os.Remove(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(users, dir); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, windowsPC, nil, rightCode)
			// A well-formed record for a session that is not this one: were
			// it trusted, the app would resume it instead of pairing.
			planted := fmt.Sprintf(`{"station_url":%q,"pins":%q,"agent_key":"%s","account":"AdHocRemoteUser","expires_at":%q,"account_ready":true}`,
				r.srv.URL(), r.srv.Pins()[0:1], strings.Repeat("ab", 32), r.agent.Now().Add(time.Hour).Format(time.RFC3339))
			plant(t, r.rec.stateDir, planted)
			r.start()
			r.waitStatus(support.TrayWaiting)
			calls, _, _, _, _ := r.rec.snapshot()
			if !slices.Contains(calls, "reset state folder") {
				t.Errorf("calls %v: want the folder deleted and made again", calls)
			}
			if s := r.session(); s.State != core.StateActive {
				t.Errorf("session %s: want this invitation paired, not the planted record resumed", s.State)
			}
			if fi, err := os.Lstat(r.rec.stateDir); err != nil || !fi.IsDir() || fi.Mode()&os.ModeSymlink != 0 {
				t.Errorf("state folder after the start: %v %v; want a real folder", fi, err)
			}
		})
	}
}

// Values read back from the record are checked before use.
func TestRecordValuesValidated(t *testing.T) {
	good := func(r *rig) map[string]any {
		return map[string]any{"station_url": r.srv.URL(), "pins": r.srv.Pins(), "agent_key": strings.Repeat("ab", 32),
			"account": "AdHocRemoteUser", "expires_at": r.agent.Now().Add(time.Hour), "account_ready": true}
	}
	for name, spoil := range map[string]func(m map[string]any){
		"http station":        func(m map[string]any) { m["station_url"] = "http://192.0.2.1" },
		"other account":       func(m map[string]any) { m["account"] = "Administrator" },
		"expiry in a year":    func(m map[string]any) { m["expires_at"] = time.Now().AddDate(1, 0, 0) },
		"quote in agent key":  func(m map[string]any) { m["agent_key"] = strings.Repeat("a", 20) + `"&calc` },
		"control in name":     func(m map[string]any) { m["technician"] = "Ana\r\nTech" },
		"malformed SID":       func(m map[string]any) { m["account_sid"] = `S-1-5-21-1" & calc` },
		"pin of wrong length": func(m map[string]any) { m["pins"] = []string{"AAAA"} },
		"team pin not a pin":  func(m map[string]any) { m["team_pins"] = []string{"AAAA"} },
		"17 team pins": func(m map[string]any) {
			m["team_pins"] = slices.Repeat([]string{"n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="}, wire.MaxTeamPins+1)
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, windowsPC, nil, rightCode)
			m := good(r)
			spoil(m)
			b, _ := json.Marshal(m)
			write(t, filepath.Join(r.rec.stateDir, "session.json"), string(b))
			r.rec.accounts[support.AccountName] = &winAccount{Account: support.Account{Name: support.AccountName}, sid: "S-1-5-21-1-2-3-1000"}
			r.start()
			if err := r.finished("nil: the account removed without trusting the record"); err != nil {
				t.Fatalf("Run = %v", err)
			}
			calls, _, told, accounts, _ := r.rec.snapshot()
			if len(accounts) != 0 || !strings.Contains(told[len(told)-1].Text, "damaged") {
				t.Errorf("accounts %v told %+v: want the fixed-name account removed as for a damaged record", accounts, told)
			}
			for _, c := range calls {
				if strings.Contains(c, "calc") || strings.Contains(c, "Administrator ") {
					t.Errorf("call %q uses a value from the record", c)
				}
			}
		})
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A half-made account: killed after any step of the account's creation,
// what exists is hidden and expires with the session, and the next start
// removes it.
func TestInterruptedCreation(t *testing.T) {
	for _, step := range []string{"hide ", "add ", "administrators "} {
		t.Run(strings.TrimSpace(step), func(t *testing.T) {
			r := newRig(t, windowsPC, nil, rightCode)
			r.rec.killAfter = step
			r.start()
			r.waitEvent(core.EventPaired)
			// The goroutine ended as a killed process: no Run result ever comes.
			coretest.Receive(t, r.rec.killed, "the app to be killed after "+step)
			r.rec.mu.Lock()
			acc, exists := r.rec.accounts[support.AccountName]
			if exists && (!r.rec.hidden[support.AccountName] || acc.Expires.IsZero() || acc.Expires.After(r.agent.Now().Add(24*time.Hour))) {
				t.Errorf("killed after %q: account %+v hidden=%v; want it hidden and expiring with the session", step, acc, r.rec.hidden[support.AccountName])
			}
			r.rec.killAfter = ""
			r.rec.mu.Unlock()
			r.start() // the restart
			r.checkCleanedUp(r.finished("nil: the half-made account removed"))
			if !r.audited("cleanup receipt", "stopped while it created the account") {
				t.Error("the receipt does not say why")
			}
		})
	}
}

// endSignedIn ends a session whose technician is still signed in, Windows
// keeping the profile loaded through busy tries to delete it. It returns
// the rig, the account's SID and what the service's run returned once the
// retries are over.
func endSignedIn(t *testing.T, busy int) (*rig, string, error) {
	r := waitingRig(t)
	r.rec.signIn(support.AccountName)
	r.rec.mu.Lock()
	sid := r.rec.accounts[support.AccountName].sid
	r.rec.profileBusy = busy
	r.rec.mu.Unlock()
	r.rec.end <- struct{}{}
	return r, sid, r.finishedAdvancing(5*time.Second, "once the retries are over")
}

// "End means end": a technician still signed in is signed out, the profile
// is deleted once Windows unloads it, then the account.
func TestEndSignsOutTheTechnician(t *testing.T) {
	r, sid, err := endSignedIn(t, 2) // Windows takes a moment to unload it
	r.checkCleanedUp(err)
	calls, _, _, _, _ := r.rec.snapshot()
	order := strings.Join(calls, ",")
	if !strings.Contains(order, "disable AdHocRemoteUser,sign out AdHocRemoteUser (1),delete profile "+sid) {
		t.Errorf("calls %s: want disable, sign out of the one session, then the profile", order)
	}
	if n := strings.Count(order, "delete profile "); n != 3 {
		t.Errorf("profile deleted in %d tries, want 3 (twice still loaded)", n)
	}
	if r.rec.profiles[sid] {
		t.Error("the profile is still there")
	}
}

// A profile Windows keeps loaded past the retries stays in the record by its
// SID (the account is gone, so its name no longer finds it), and the next
// start removes it.
func TestProfileLeftIsRemovedAtNextStart(t *testing.T) {
	r, sid, err := endSignedIn(t, 100)
	if !errors.Is(err, support.ErrNotDone) {
		t.Fatalf("Run = %v, want ErrNotDone while the profile stays", err)
	}
	_, _, _, accounts, _ := r.rec.snapshot()
	b, rerr := os.ReadFile(filepath.Join(r.rec.stateDir, "session.json"))
	if len(accounts) != 0 || rerr != nil || !strings.Contains(string(b), sid) {
		t.Fatalf("accounts %v, record %s (%v): want the account gone and its SID kept", accounts, b, rerr)
	}
	if _, err := os.Stat(r.rec.installedExe()); err != nil {
		t.Errorf("the installed copy is gone before its work is done: %v", err)
	}
	r.rec.mu.Lock()
	r.rec.profileBusy = 0
	r.rec.mu.Unlock()
	r.start() // the next start
	if err := r.finished("nil: the profile removed"); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if r.rec.profiles[sid] {
		t.Error("the profile is still there after the next start")
	}
	if _, err := os.Stat(filepath.Join(r.rec.stateDir, "session.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("record kept after the profile went: %v", err)
	}
	if _, err := os.Stat(r.rec.installedExe()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("installed copy kept: %v", err)
	}
}
