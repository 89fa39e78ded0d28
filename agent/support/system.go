// Package support is the Support Session app's whole flow — read the pairing
// details, ask for consent and the security code, pair, create and hide the
// remote user account, keep the session's 24 hours, then remove the account
// and the app — written against two small interfaces so it runs on Linux in
// tests: System (the Windows calls) and UI (dialogs and the tray).
package support

import (
	"context"
	"errors"
	"time"

	"adhocstation/core/wire"
)

// AccountName is the hidden local Administrator account the app creates.
// The app never creates or deletes any other name, whatever the station says.
const AccountName = "AdHocRemoteUser"

// AccountComment is the account's description in Windows, so anyone who finds
// it (or an endpoint-security rule that flags it) sees what it is for.
const AccountComment = "Temporary remote support account created by the Ad Hoc Support Session app; removed automatically when the session ends"

// Account is what CreateAccount creates.
type Account struct {
	Name     string
	Password string
	FullName string
	Comment  string
	Expires  time.Time // Windows disables the account at this time even if the app is gone
}

// System is everything Windows-specific the app needs. The real one lives in
// agent/winsys; tests use a recorder.
type System interface {
	// Executable returns the path of the running program.
	Executable() (string, error)
	// ReadTail returns the last n bytes of the file at path (the pairing
	// details trailer).
	ReadTail(path string, n int) ([]byte, error)
	// Facts describes the PC for the station.
	Facts() (wire.Facts, error)
	// CreateAccount creates a local account and adds it to the Administrators
	// group. It returns ErrPasswordPolicy when Windows refuses the password and
	// ErrAccountExists when the name is taken.
	CreateAccount(a Account) error
	// HideAccount hides the account from the sign-in screen.
	HideAccount(name string) error
	// DeleteAccount deletes the account's profile and then the account; an
	// account that does not exist is not an error.
	DeleteAccount(name string) error
	// UnhideAccount removes the hiding value; a missing value is not an error.
	UnhideAccount(name string) error
	// StateDir is a folder only administrators can read, for the state file.
	StateDir() (string, error)
	// Autostart makes Windows start the app again (with --resume) after a
	// restart, so cleanup still happens; RemoveAutostart undoes it.
	Autostart(exe string) error
	RemoveAutostart() error
	// SelfRemove deletes the program file once the process has exited.
	SelfRemove(exe string) error
}

// Errors a System returns.
var (
	//lint:ignore ST1005 "Windows" is a name, so it keeps its capital.
	ErrPasswordPolicy = errors.New("Windows refused the password: it does not meet this PC's password rules (NERR_PasswordTooShort, 2245)")
	ErrAccountExists  = errors.New("the account already exists")
	// ErrProfileNotRemoved comes from DeleteAccount when the account is gone
	// but its profile folder is not (usually because it is still in use).
	ErrProfileNotRemoved = errors.New("the account's profile folder could not be removed")
)

// Consent is what the user agrees to before anything is created.
type Consent struct {
	Technician wire.Technician
	Text       string // plain words: who asks, what they will be able to do
}

// CodeRequest asks the user for the security code.
type CodeRequest struct {
	Technician wire.Technician
	// Problem says why the last code was not accepted ("" the first time).
	Problem string
}

// Message is told to the user. Final messages wait for the user to read them
// (the app exits afterwards); others need not.
type Message struct {
	Title string
	Text  string
	Error bool
	Final bool
}

// TrayState is the one-word state the tray shows.
type TrayState string

// Tray states.
const (
	TrayWaiting     TrayState = "Waiting for the technician"
	TrayConnected   TrayState = "Technician connected"
	TrayUnreachable TrayState = "Cannot reach the station"
	TrayEnding      TrayState = "Ending the support session"
)

// Status is what the tray shows.
type Status struct {
	State      TrayState
	Technician wire.Technician
	TimeLeft   time.Duration
	ExpiresAt  time.Time // local time of the PC
}

// UI is the user-facing side: dialogs and the tray.
type UI interface {
	// Consent shows what will happen and returns true if the user agrees.
	Consent(ctx context.Context, c Consent) (bool, error)
	// AskCode returns the security code the user typed, or ErrCancelled.
	AskCode(ctx context.Context, r CodeRequest) (string, error)
	// Tell shows a message.
	Tell(m Message)
	// ShowStatus starts or updates the tray icon.
	ShowStatus(s Status)
	// EndRequested delivers a value when the user chooses "End support
	// session and remove app".
	EndRequested() <-chan struct{}
}

// ErrCancelled means the user closed a dialog; nothing was changed.
var ErrCancelled = errors.New("cancelled by the user")

// Clock is the app's time source; tests move it by hand.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns the current time without its monotonic reading: deadlines are
// compared by wall time, so a PC that sleeps overnight still sees its
// session expire when it wakes up.
func (RealClock) Now() time.Time { return time.Now().Round(0) }

// After waits for d.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
