package winsys

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"

	"adhocstation/agent/support"
)

var procLogonUserW = windows.NewLazySystemDLL("advapi32.dll").NewProc("LogonUserW")

const (
	logon32LogonNetwork    = 3 // no desktop, no profile loaded: only the check
	logon32ProviderDefault = 0
	errorLogonFailure      = 1326 // ERROR_LOGON_FAILURE: unknown user or bad password
)

// CheckPassword checks the password of a local account with LogonUserW
// (network logon, domain "." for this PC) and closes the token at once.
func (*System) CheckPassword(name, password string) error {
	n, err := utf16z(name)
	if err != nil {
		return err
	}
	p, err := utf16z(password)
	if err != nil {
		return support.ErrWrongPassword // a NUL cannot be in the account's password
	}
	defer clear(p)
	dot, _ := utf16z(".")
	var token windows.Token
	r, _, e := procLogonUserW.Call(uintptr(unsafe.Pointer(ptr(n))), uintptr(unsafe.Pointer(ptr(dot))),
		uintptr(unsafe.Pointer(ptr(p))), logon32LogonNetwork, logon32ProviderDefault, uintptr(unsafe.Pointer(&token)))
	if r == 0 {
		if errno, ok := e.(windows.Errno); ok && errno == errorLogonFailure {
			return support.ErrWrongPassword
		}
		return fmt.Errorf("LogonUser: %w", e)
	}
	return token.Close()
}
