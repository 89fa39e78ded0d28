// Package support is the Support Session app's whole flow — read the pairing
// details, ask for consent and the security code, pair, create and hide the
// remote user account, keep the session's 24 hours, then remove the account
// and the app — written against two small interfaces so it runs on Linux in
// tests: System (the Windows calls) and UI (dialogs and the tray).
package support

import (
	"context"
	"errors"
	"os/exec"
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
// agent/winsys; tests use a recorder. No method takes a file path from the
// session record: what is installed, run and deleted is fixed by the System.
type System interface {
	// Executable returns the path of the running program.
	Executable() (string, error)
	// ReadTail returns the last n bytes of the file at path (the pairing
	// details trailer).
	ReadTail(path string, n int) ([]byte, error)
	// Facts describes the PC for the station.
	Facts() (wire.Facts, error)

	// StateDir returns the folder for the session record, which only
	// administrators can write. It returns ErrStateDirUntrusted when the
	// folder exists with another owner or as a reparse point (junction,
	// symbolic link): nothing in it may then be read.
	StateDir() (string, error)
	// ResetStateDir deletes the state folder without following links and
	// creates it again, owned by Administrators, admin-only.
	ResetStateDir() error
	// Install copies the program at exe into the admin-only install folder
	// and registers the service that runs that copy; from then on
	// nothing elevated runs the file at exe.
	Install(exe string) error
	// Uninstall removes what Install made: the service and the installed
	// copy. It never deletes the downloaded file (a folder its user controls).
	Uninstall() error

	// HideAccount hides the account from the sign-in screen; it is called
	// before the account exists, so the account is never visible.
	HideAccount(name string) error
	// AddAccount creates the account in one call, with its expiry, full
	// name, description and flags already set. It returns ErrPasswordPolicy
	// when Windows refuses the password and ErrAccountExists when the name
	// is taken.
	AddAccount(a Account) error
	// AccountSID returns the SID of this PC's local account name, or
	// ErrNoAccount.
	AccountSID(name string) (string, error)
	// AddToAdministrators adds the account to the group with the well-known
	// SID S-1-5-32-544; already a member is not an error.
	AddToAdministrators(name string) error
	// DisableAccount stops new sign-ins; a missing account is not an error.
	DisableAccount(name string) error
	// SignOut signs out every Windows session of the account and returns
	// how many there were.
	SignOut(name string) (int, error)
	// DeleteProfile deletes the profile (folder and registry) of sid; a
	// missing profile is not an error. ErrProfileBusy while it is loaded.
	DeleteProfile(sid string) error
	// DeleteAccount deletes the account; a missing account is not an error.
	DeleteAccount(name string) error
	// UnhideAccount removes the hiding value; a missing value is not an error.
	UnhideAccount(name string) error
	// CheckPassword signs in to the account without a desktop (LogonUser,
	// network logon) to check a technician's password: ErrWrongPassword
	// when it is refused, another error when the check itself failed. The
	// Logon runs the remote session's commands; close it when it ends.
	CheckPassword(name, password string) (Logon, error)
	// SystemInfo describes the PC for the remote session's System tab.
	SystemInfo() (wire.SystemInfo, error)
}

// Logon is a signed-in account (on Windows the token from LogonUser).
type Logon interface {
	// Command prepares line to run in shell (wire.ShellPowerShell or
	// wire.ShellCmd) as the account, or says why it cannot.
	Command(shell, line string) (*exec.Cmd, error)
	Close() error
}

// Errors a System returns.
var (
	//lint:ignore ST1005 "Windows" is a name, so it keeps its capital.
	ErrPasswordPolicy = errors.New("Windows refused the password: it does not meet this PC's password rules (NERR_PasswordTooShort, 2245)")
	ErrAccountExists  = errors.New("the account already exists")
	ErrNoAccount      = errors.New("there is no such account")
	// ErrProfileBusy comes from DeleteProfile while the profile is still
	// loaded (its user has just been signed out).
	ErrProfileBusy = errors.New("the account's profile is still in use")
	// ErrStateDirUntrusted comes from StateDir when the folder was not made
	// by this app (another owner, or a link to elsewhere).
	ErrStateDirUntrusted = errors.New("the state folder was not made by this app")
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
