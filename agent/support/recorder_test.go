package support_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"adhocstation/agent/support"
	"adhocstation/core/wire"
)

// recorder is the Windows side replaced for tests: it records every call
// and keeps the accounts, hiding values and files in memory.
type recorder struct {
	mu       sync.Mutex
	exe      string // path of the "program" file, which carries the trailer
	facts    wire.Facts
	consent  bool
	codes    []string // answers to AskCode, in order; then the user cancels
	problems []string // what AskCode was told
	told     []support.Message
	calls    []string
	accounts map[string]support.Account
	hidden   map[string]bool
	autorun  bool
	removed  string
	stateDir string
	// createErr is returned once by CreateAccount.
	createErr error

	status chan support.Status
	end    chan struct{}
}

func newRecorder(dir string, program []byte, facts wire.Facts, codes ...string) *recorder {
	exe := filepath.Join(dir, "AdHocSupport.exe")
	if err := os.WriteFile(exe, program, 0o600); err != nil {
		panic(err)
	}
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		panic(err)
	}
	return &recorder{exe: exe, facts: facts, consent: true, codes: codes, accounts: map[string]support.Account{},
		hidden: map[string]bool{}, stateDir: state, status: make(chan support.Status, 100), end: make(chan struct{}, 1)}
}

func (r *recorder) call(name string) {
	r.mu.Lock()
	r.calls = append(r.calls, name)
	r.mu.Unlock()
}

func (r *recorder) Executable() (string, error) { return r.exe, nil }

func (r *recorder) ReadTail(path string, n int) ([]byte, error) {
	b, err := os.ReadFile(path)
	return b[len(b)-min(n, len(b)):], err
}

func (r *recorder) Facts() (wire.Facts, error) { r.call("facts"); return r.facts, nil }

func (r *recorder) CreateAccount(a support.Account) error {
	r.call("create " + a.Name)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.createErr; err != nil {
		r.createErr = nil
		return err
	}
	if _, ok := r.accounts[a.Name]; ok {
		return support.ErrAccountExists
	}
	r.accounts[a.Name] = a
	return nil
}

func (r *recorder) HideAccount(name string) error {
	r.call("hide " + name)
	r.mu.Lock()
	r.hidden[name] = true
	r.mu.Unlock()
	return nil
}

func (r *recorder) DeleteAccount(name string) error {
	r.call("delete " + name)
	r.mu.Lock()
	delete(r.accounts, name)
	r.mu.Unlock()
	return nil
}

func (r *recorder) UnhideAccount(name string) error {
	r.call("unhide " + name)
	r.mu.Lock()
	delete(r.hidden, name)
	r.mu.Unlock()
	return nil
}

func (r *recorder) StateDir() (string, error) { return r.stateDir, nil }

func (r *recorder) Autostart(exe string) error {
	r.call("autostart")
	r.mu.Lock()
	r.autorun = true
	r.mu.Unlock()
	return nil
}

func (r *recorder) RemoveAutostart() error {
	r.call("no autostart")
	r.mu.Lock()
	r.autorun = false
	r.mu.Unlock()
	return nil
}

func (r *recorder) SelfRemove(exe string) error {
	r.call("self-remove")
	r.mu.Lock()
	r.removed = exe
	r.mu.Unlock()
	return os.Remove(exe)
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
		accounts[k] = v
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

// lockedWriter lets the console's reader goroutine and the test share a buffer.
type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
