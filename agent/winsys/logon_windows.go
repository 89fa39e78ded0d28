package winsys

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"

	"adhocstation/agent/support"
	"adhocstation/core/wire"
)

var procLogonUserW = windows.NewLazySystemDLL("advapi32.dll").NewProc("LogonUserW")

const (
	logon32LogonNetwork    = 3 // no desktop, no profile loaded: only the check
	logon32ProviderDefault = 0
	errorLogonFailure      = 1326 // ERROR_LOGON_FAILURE: unknown user or bad password
)

// CheckPassword checks the password of a local account with LogonUserW
// (network logon, domain "." for this PC) and keeps the token, made
// primary, to run the remote session's commands as that account.
func (*System) CheckPassword(name, password string) (support.Logon, error) {
	n, err := utf16z(name)
	if err != nil {
		return nil, err
	}
	p, err := utf16z(password)
	if err != nil {
		return nil, support.ErrWrongPassword // a NUL cannot be in the account's password
	}
	defer clear(p)
	dot, _ := utf16z(".")
	var token windows.Token
	r, e, err := call(procLogonUserW, uintptr(unsafe.Pointer(ptr(n))), uintptr(unsafe.Pointer(ptr(dot))),
		uintptr(unsafe.Pointer(ptr(p))), logon32LogonNetwork, logon32ProviderDefault, uintptr(unsafe.Pointer(&token)))
	if err != nil {
		return nil, err
	}
	if r == 0 {
		if e == errorLogonFailure {
			return nil, support.ErrWrongPassword
		}
		return nil, fmt.Errorf("LogonUser: %w", e)
	}
	defer token.Close()
	// A network logon gives an impersonation token; CreateProcessAsUser
	// needs a primary one.
	var primary windows.Token
	if err := windows.DuplicateTokenEx(token, windows.MAXIMUM_ALLOWED, nil, windows.SecurityImpersonation, windows.TokenPrimary, &primary); err != nil {
		return nil, fmt.Errorf("DuplicateTokenEx: %w", err)
	}
	return &logon{token: primary}, nil
}

// logon runs commands with a signed-in account's token.
type logon struct{ token windows.Token }

func (l *logon) Close() error { return l.token.Close() }

// Command runs line through PowerShell or cmd with the account's token
// (exec uses CreateProcessAsUser when SysProcAttr.Token is set), without
// a window.
func (l *logon) Command(shell, line string) (*exec.Cmd, error) {
	dir, err := windows.GetSystemDirectory()
	if err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	switch shell {
	case wire.ShellPowerShell:
		cmd = exec.Command(filepath.Join(dir, `WindowsPowerShell\v1.0\powershell.exe`), "-NoLogo", "-NoProfile", "-NonInteractive", "-Command", line)
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	case wire.ShellCmd:
		// cmd parses its own command line: /s /c "…" keeps the line as typed.
		cmd = exec.Command(filepath.Join(dir, "cmd.exe"))
		cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: `cmd.exe /d /s /c "` + line + `"`}
	default:
		return nil, fmt.Errorf("this PC does not know the shell %q (PowerShell or cmd)", shell)
	}
	cmd.SysProcAttr.Token = syscall.Token(l.token)
	cmd.SysProcAttr.HideWindow = true
	cmd.SysProcAttr.CreationFlags |= windows.CREATE_SUSPENDED // resumed by Track, once in its job
	return cmd, nil
}
