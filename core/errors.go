package core

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors a technician, an end user or a script may see. The UI maps
// them to sentences in one place; Error() already reads as a plain sentence.
var (
	ErrNoSeat            = errors.New("no free seat")
	ErrProfileBusy       = errors.New("Only one ad hoc support session can be active at a time per profile. End or cancel the current one first.")
	ErrProfileNotFound   = errors.New("That technician profile does not exist. Pick a profile or add one.")
	ErrProfileExists     = errors.New("A profile with this email address already exists.")
	ErrInvalidName       = errors.New("Enter the technician's name.")
	ErrInvalidEmail      = errors.New("invalid email address")
	ErrWeakPassword      = errors.New("weak password")
	ErrPasswordInUse     = errors.New("Another open support session already uses this password. Choose a different one: that session's end user could otherwise sign in to this PC too.")
	ErrPasswordMismatch  = errors.New("The password and its confirmation do not match. Type the same password twice.")
	ErrSessionNotFound   = errors.New("That session does not exist.")
	ErrNotPrepared       = errors.New("This session is no longer waiting for the user, so its security code cannot be changed.")
	ErrSessionClosed     = errors.New("This session has already finished.")
	ErrUnknownToken      = errors.New("This deployment link is not valid. Ask your technician for a new invitation.")
	ErrInvitationExpired = errors.New("This invitation is no longer valid. Ask your technician to prepare a new session.")
	ErrInvalidCode       = errors.New("wrong security code")
	ErrCodeBurned        = errors.New("This security code was entered wrongly too many times and no longer works. Ask your technician for a new code.")
	ErrNotWindows        = errors.New("The Support Session app runs on Windows PCs only. Ad hoc support is available for Windows PCs only.")
	ErrAlreadyPaired     = errors.New("This session is already paired with a computer.")
	ErrRateLimited       = errors.New("Too many attempts from this computer. Wait a minute and try again.")
	ErrInvalidSetting    = errors.New("invalid setting")
	ErrAuditBroken       = errors.New("The audit log has been altered")
)

// SeatError says how many seats exist when none is free. It matches ErrNoSeat.
type SeatError struct{ Seats int }

func (e *SeatError) Error() string {
	return fmt.Sprintf("All %d seats are in use — end a session to free one.", e.Seats)
}
func (e *SeatError) Is(target error) bool { return target == ErrNoSeat }

// EmailError says why an address was refused. It matches ErrInvalidEmail.
type EmailError struct{ Address, Reason string }

func (e *EmailError) Error() string {
	if e.Address == "" {
		return "Enter the end user's email address."
	}
	return fmt.Sprintf("%q is not a valid email address (%s). Check it for typos, e.g. anna@example.com.", e.Address, e.Reason)
}
func (e *EmailError) Is(target error) bool { return target == ErrInvalidEmail }

// PasswordError names the password rule that failed. It matches ErrWeakPassword.
type PasswordError struct{ Rule string }

func (e *PasswordError) Error() string        { return e.Rule }
func (e *PasswordError) Is(target error) bool { return target == ErrWeakPassword }

// CodeError is a wrong security code with the tries still allowed. It matches
// ErrInvalidCode.
type CodeError struct{ AttemptsLeft int }

func (e *CodeError) Error() string {
	if e.AttemptsLeft == 1 {
		return "That security code is not right. Check it with your technician — 1 try left."
	}
	return fmt.Sprintf("That security code is not right. Check it with your technician — %d tries left.", e.AttemptsLeft)
}
func (e *CodeError) Is(target error) bool { return target == ErrInvalidCode }

// RateLimitError says when the address may try again. It matches ErrRateLimited.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("Too many attempts from this computer. Try again in %d seconds.", int(e.RetryAfter.Round(time.Second)/time.Second))
}
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// SettingError names the setting that was refused. It matches ErrInvalidSetting.
type SettingError struct{ Field, Reason string }

func (e *SettingError) Error() string        { return e.Field + ": " + e.Reason }
func (e *SettingError) Is(target error) bool { return target == ErrInvalidSetting }

// AuditError points at the first audit row that does not verify. It matches
// ErrAuditBroken.
type AuditError struct {
	RowID  int64
	Reason string
}

func (e *AuditError) Error() string {
	return fmt.Sprintf("The audit log has been altered at entry %d: %s.", e.RowID, e.Reason)
}
func (e *AuditError) Is(target error) bool { return target == ErrAuditBroken }
