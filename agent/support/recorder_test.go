//go:build !windows

package support_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"adhocstation/agent/support"
	"adhocstation/core/wire"
)

// recorder is the Windows side replaced for tests: it records every call
// and keeps the accounts, hiding values and profiles in memory. Files are
// real: the download, the installed copy and the state folder (whose owner
// and link checks are done on the Linux file system).
type recorder struct {
	mu         sync.Mutex
	exe        string // the downloaded program, which carries the trailer
	installDir string
	facts      wire.Facts
	consent    bool
	codes      []string // answers to AskCode, in order; then the user cancels
	problems   []string // what AskCode was told
	told       []support.Message
	calls      []string
	accounts   map[string]*winAccount
	hidden     map[string]bool
	profiles   map[string]bool // SIDs with a profile
	nextRID    int
	installed  bool
	stateDir   string
	// createErr is returned once by AddAccount.
	createErr error
	// profileBusy makes DeleteProfile report a loaded profile this many times.
	profileBusy int
	// uninstallFails makes Uninstall fail this many times (nothing removed).
	uninstallFails int
	// killAfter ends the calling goroutine (as a killed process) right after
	// the call whose name starts with it.
	killAfter string
	killed    chan struct{}

	status chan support.Status
	end    chan struct{}
	looks  int // SystemInfo calls
}

// winAccount is a local account as the recorder keeps it.
type winAccount struct {
	support.Account
	sid      string
	admin    bool
	disabled bool
	sessions int // signed-in Windows sessions
}

func newRecorder(dir string, program []byte, facts wire.Facts, codes ...string) *recorder {
	downloads := filepath.Join(dir, "Downloads")
	exe := filepath.Join(downloads, "AdHocSupport.exe")
	state := filepath.Join(dir, "ProgramData", "AdHocSupport")
	install := filepath.Join(dir, "Program Files", "AdHocSupport")
	for _, d := range []string{downloads, state, install} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			panic(err)
		}
	}
	if err := os.WriteFile(exe, program, 0o600); err != nil {
		panic(err)
	}
	return &recorder{exe: exe, installDir: install, facts: facts, consent: true, codes: codes,
		accounts: map[string]*winAccount{}, hidden: map[string]bool{}, profiles: map[string]bool{}, nextRID: 1001,
		stateDir: state, killed: make(chan struct{}, 1), status: make(chan support.Status, 100), end: make(chan struct{}, 1)}
}

// call records name and, if killAfter says so, ends the goroutine as a
// killed process would end: after the step, before the next one.
func (r *recorder) call(name string) {
	r.mu.Lock()
	r.calls = append(r.calls, name)
	kill := r.killAfter != "" && strings.HasPrefix(name, r.killAfter)
	r.mu.Unlock()
	if kill {
		r.killed <- struct{}{}
		runtime.Goexit()
	}
}

func (r *recorder) installedExe() string { return filepath.Join(r.installDir, "AdHocSupport.exe") }

func (r *recorder) Executable() (string, error) { return r.exe, nil }

func (r *recorder) ReadTail(path string, n int) ([]byte, error) {
	b, err := os.ReadFile(path)
	return b[len(b)-min(n, len(b)):], err
}

func (r *recorder) Facts() (wire.Facts, error) { r.call("facts"); return r.facts, nil }

// StateDir refuses a folder that is a symbolic link or owned by another
// user, as the Windows one refuses a reparse point or another owner.
func (r *recorder) StateDir() (string, error) {
	fi, err := os.Lstat(r.stateDir)
	if errors.Is(err, os.ErrNotExist) {
		return r.stateDir, os.Mkdir(r.stateDir, 0o700)
	}
	if err != nil {
		return "", err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return "", fmt.Errorf("%w: %s is a link", support.ErrStateDirUntrusted, r.stateDir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return "", fmt.Errorf("%w: %s belongs to user %d", support.ErrStateDirUntrusted, r.stateDir, st.Uid)
	}
	return r.stateDir, nil
}

func (r *recorder) ResetStateDir() error {
	r.call("reset state folder")
	if err := os.RemoveAll(r.stateDir); err != nil { // removes a link, not what it points to
		return err
	}
	return os.Mkdir(r.stateDir, 0o700)
}

func (r *recorder) Install(exe string) error {
	r.call("install")
	b, err := os.ReadFile(exe)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.installed = true
	r.mu.Unlock()
	return os.WriteFile(r.installedExe(), b, 0o700)
}

func (r *recorder) Uninstall() error {
	r.call("uninstall")
	r.mu.Lock()
	if r.uninstallFails > 0 {
		r.uninstallFails--
		r.mu.Unlock()
		return errUninstall
	}
	r.installed = false
	r.mu.Unlock()
	err := os.Remove(r.installedExe())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func (r *recorder) HideAccount(name string) error {
	r.mu.Lock()
	r.hidden[name] = true
	r.mu.Unlock()
	r.call("hide " + name)
	return nil
}

func (r *recorder) AddAccount(a support.Account) error {
	r.mu.Lock()
	if err := r.createErr; err != nil {
		r.createErr = nil
		r.mu.Unlock()
		r.call("add " + a.Name + " refused")
		return err
	}
	if _, ok := r.accounts[a.Name]; ok {
		r.mu.Unlock()
		r.call("add " + a.Name + " exists")
		return support.ErrAccountExists
	}
	r.accounts[a.Name] = &winAccount{Account: a, sid: fmt.Sprintf("S-1-5-21-1-2-3-%d", r.nextRID)}
	r.nextRID++
	r.mu.Unlock()
	r.call("add " + a.Name)
	return nil
}

func (r *recorder) AccountSID(name string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if acc, ok := r.accounts[name]; ok {
		return acc.sid, nil
	}
	return "", support.ErrNoAccount
}

func (r *recorder) AddToAdministrators(name string) error {
	r.mu.Lock()
	acc, ok := r.accounts[name]
	if ok {
		acc.admin = true
	}
	r.mu.Unlock()
	r.call("administrators " + name)
	if !ok {
		return support.ErrNoAccount
	}
	return nil
}

func (r *recorder) DisableAccount(name string) error {
	r.mu.Lock()
	if acc, ok := r.accounts[name]; ok {
		acc.disabled = true
	}
	r.mu.Unlock()
	r.call("disable " + name)
	return nil
}

// SystemInfo is a fixed PC whose uptime grows a minute with each look,
// so a refresh shows a change; its addresses are this machine's own.
func (r *recorder) SystemInfo() (wire.SystemInfo, error) {
	r.mu.Lock()
	r.looks++
	up := int64(3600 + 60*r.looks)
	r.mu.Unlock()
	r.call("system info")
	return wire.SystemInfo{ComputerName: r.facts.Hostname, Edition: r.facts.OSName, Build: r.facts.OSVersion + ".4460",
		UptimeSec: up, CPU: "Intel(R) Core(TM) i5-1135G7 @ 2.40GHz", CPUs: 8, MemoryTotal: 16 << 30, MemoryFree: 9 << 30,
		Disks: []wire.Disk{{Name: `C:\`, Total: 475 << 30, Free: 212 << 30}}, Users: []string{r.facts.WindowsUser},
		Addresses: support.Addresses()}, nil
}

// forgetTold drops the messages with text, so a later wait sees a new one.
func (r *recorder) forgetTold(text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := r.told[:0]
	for _, m := range r.told {
		if m.Text != text {
			kept = append(kept, m)
		}
	}
	r.told = kept
}

// CheckPassword is the recorder's LogonUser: the account must exist, be
// enabled and have this password.
func (r *recorder) CheckPassword(name, password string) (support.Logon, error) {
	r.mu.Lock()
	acc, ok := r.accounts[name]
	right := ok && !acc.disabled && acc.Password == password
	r.mu.Unlock()
	r.call("check password of " + name)
	if !right {
		return nil, support.ErrWrongPassword
	}
	return shellLogon{}, nil
}

// shellLogon runs both shells' commands with this platform's sh.
type shellLogon struct{}

func (shellLogon) Close() error { return nil }
func (shellLogon) Command(shell, line string) (*exec.Cmd, error) {
	if shell != wire.ShellPowerShell && shell != wire.ShellCmd {
		return nil, fmt.Errorf("this PC does not know the shell %q (PowerShell or cmd)", shell)
	}
	return exec.Command("sh", "-c", line), nil
}

// signIn is the technician signing in with the account.
func (r *recorder) signIn(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	acc := r.accounts[name]
	acc.sessions++
	r.profiles[acc.sid] = true
}

func (r *recorder) SignOut(name string) (int, error) {
	r.mu.Lock()
	n := 0
	if acc, ok := r.accounts[name]; ok {
		n, acc.sessions = acc.sessions, 0
	}
	r.mu.Unlock()
	r.call(fmt.Sprintf("sign out %s (%d)", name, n))
	return n, nil
}

func (r *recorder) DeleteProfile(sid string) error {
	r.call("delete profile " + sid)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, acc := range r.accounts {
		if acc.sid == sid && acc.sessions > 0 {
			return support.ErrProfileBusy // loaded: its user is signed in
		}
	}
	if r.profileBusy > 0 {
		r.profileBusy--
		return support.ErrProfileBusy
	}
	delete(r.profiles, sid)
	return nil
}

func (r *recorder) DeleteAccount(name string) error {
	r.mu.Lock()
	delete(r.accounts, name)
	r.mu.Unlock()
	r.call("delete " + name)
	return nil
}

func (r *recorder) UnhideAccount(name string) error {
	r.mu.Lock()
	delete(r.hidden, name)
	r.mu.Unlock()
	r.call("unhide " + name)
	return nil
}

func (r *recorder) Consent(ctx context.Context, c support.Consent) (bool, error) {
	r.call("consent")
	return r.consent, nil
}

func (r *recorder) AskCode(ctx context.Context, req support.CodeRequest) (string, error) {
	r.call("ask code")
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, req.Problem)
	if len(r.codes) == 0 {
		return "", support.ErrCancelled
	}
	code := r.codes[0]
	r.codes = r.codes[1:]
	return code, nil
}

func (r *recorder) Tell(m support.Message) {
	r.mu.Lock()
	r.told = append(r.told, m)
	r.mu.Unlock()
}

func (r *recorder) ShowStatus(s support.Status) {
	select {
	case r.status <- s:
	default:
	}
}

func (r *recorder) EndRequested() <-chan struct{} { return r.end }

// snapshot returns copies for assertions.
func (r *recorder) snapshot() (calls, problems []string, told []support.Message, accounts map[string]support.Account, hidden map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	accounts = map[string]support.Account{}
	for k, v := range r.accounts {
		accounts[k] = v.Account
	}
	hidden = map[string]bool{}
	for k, v := range r.hidden {
		hidden[k] = v
	}
	return append([]string(nil), r.calls...), append([]string(nil), r.problems...),
		append([]support.Message(nil), r.told...), accounts, hidden
}

var _ support.System = (*recorder)(nil)
var _ support.UI = (*recorder)(nil)
var errBoom = errors.New("boom")

// errUninstall is what a failing Uninstall returns.
var errUninstall = errors.New("deleting the service: Access is denied")
