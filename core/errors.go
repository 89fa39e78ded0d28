package core

import (
	"fmt"
	"time"

	"adhocstation/core/refusal"
)

// The refusal type lives in core/refusal, shared with core/remote and
// core/mail; these names keep core.Error, core.Refusal and the sentinels
// below reading as before.

// Refusal marks an error a person may read as it is (refusal.Refusal).
type Refusal = refusal.Refusal

// Error is a refusal that needs no more than its sentence (refusal.Error).
type Error = refusal.Error

// Errorf makes a refusal whose message is formatted like fmt.Errorf; an
// error given with %w stays reachable through errors.Is and errors.As.
func Errorf(code, format string, args ...any) *Error {
	return refusal.Errorf(code, format, args...)
}

// RefusalText returns err's sentence when it (or every error it joins) is a
// refusal, and false for an internal error (refusal.Text).
func RefusalText(err error) (string, bool) { return refusal.Text(err) }

// Refusals lists every sentinel refusal of the packages linked in
// (ErrNoSeat, remote.ErrRemoteGone, ...), in the order they were made.
func Refusals() []*Error { return refusal.All() }

// Sentinel refusals a technician, an end user or a script may see. Every
// message is one or two sentences: what happened, then what to do next.
// Some reach the end user through the Support Session app, so those name
// no page of the station.
var (
	ErrNoSeat            = refusal.New("no_seat", "All seats are in use — end a session to free one.")
	ErrProfileBusy       = refusal.New("profile_busy", "Only one ad hoc support session can be active at a time per profile. End or cancel the current one first.")
	ErrProfileNotFound   = refusal.New("profile_not_found", "That technician profile does not exist. Pick a profile or add one.")
	ErrProfileExists     = refusal.New("profile_exists", "A profile with this email address already exists. Pick that profile, or use another address.")
	ErrInvalidName       = refusal.New("invalid_name", "Enter the technician's name.")
	ErrInvalidEmail      = refusal.New("invalid_email", "That is not a valid email address. Check it for typos, e.g. anna@example.com.")
	ErrWeakPassword      = refusal.New("weak_password", "The password is too weak. Choose one of at least 10 characters that does not contain the user's name.")
	ErrPasswordInUse     = refusal.New("password_in_use", "Another open support session already uses this password. Choose a different one: that session's end user could otherwise sign in to this PC too.")
	ErrPasswordMismatch  = refusal.New("password_mismatch", "The password and its confirmation do not match. Type the same password twice.")
	ErrSessionNotFound   = refusal.New("session_not_found", "That session does not exist. Check the session number.")
	ErrNotPrepared       = refusal.New("not_prepared", "This session is no longer waiting for its user, so it cannot be cancelled or given a new code. Its state is on the Computers page.")
	ErrSessionClosed     = refusal.New("session_closed", "This session has already finished, so it cannot be changed any more.")
	ErrUnknownToken      = refusal.New("unknown_token", "This deployment link is not valid. Ask your technician for a new invitation.")
	ErrInvitationExpired = refusal.New("invitation_expired", "This invitation is no longer valid. Ask your technician to prepare a new session.")
	ErrInvalidCode       = refusal.New("invalid_code", "That security code is not right. Check it with your technician.")
	ErrCodeBurned        = refusal.New("code_burned", "This security code was entered wrongly too many times and no longer works. Ask your technician for a new code.")
	ErrNotWindows        = refusal.New("not_windows", "Ad hoc support is available for Windows PCs only. Run the Support Session app on the Windows PC that needs help.")
	ErrAlreadyPaired     = refusal.New("already_paired", "This session is already paired with a computer. Ask your technician for a new invitation for this PC.")
	ErrRateLimited       = refusal.New("rate_limited", "Too many attempts from this computer. Wait a minute and try again.")
	ErrInvalidSetting    = refusal.New("invalid_setting", "A setting is not valid. Correct the fields marked in Settings and save again.")
	ErrAuditBroken       = refusal.New("audit_broken", "The audit log has been altered. Keep a copy of the database for investigation.")
	ErrSMTPNotConfigured = refusal.New("smtp_not_configured", "SMTP is not configured, so the station cannot send email. Fill in the mail server in Settings, or open the invitation in your own mail program.")

	// ErrInvitationNotNeeded refuses Resend and the mailto: fallback once
	// the session no longer waits for its user. Sharing ErrNotPrepared's
	// code, it matches it.
	ErrInvitationNotNeeded = refusal.New(ErrNotPrepared.Code, "This session is no longer waiting for its user, so its invitation is not needed any more.")
)

// SeatError says how many seats exist when none is free. It matches ErrNoSeat.
type SeatError struct{ Seats int }

func (e *SeatError) Error() string {
	return fmt.Sprintf("All %d seats are in use — end a session to free one.", e.Seats)
}
func (e *SeatError) Is(target error) bool { return target == ErrNoSeat }
func (e *SeatError) RefusalCode() string  { return ErrNoSeat.Code }

// EmailError says why an address was refused. It matches ErrInvalidEmail.
type EmailError struct{ Address, Reason string }

func (e *EmailError) Error() string {
	if e.Address == "" {
		return "Enter the end user's email address."
	}
	return fmt.Sprintf("%q is not a valid email address (%s). Check it for typos, e.g. anna@example.com.", e.Address, e.Reason)
}
func (e *EmailError) Is(target error) bool { return target == ErrInvalidEmail }
func (e *EmailError) RefusalCode() string  { return ErrInvalidEmail.Code }

// PasswordError names the password rule that failed, as a sentence that
// says what to type instead. It matches ErrWeakPassword.
type PasswordError struct{ Rule string }

func (e *PasswordError) Error() string        { return e.Rule }
func (e *PasswordError) Is(target error) bool { return target == ErrWeakPassword }
func (e *PasswordError) RefusalCode() string  { return ErrWeakPassword.Code }

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
func (e *CodeError) RefusalCode() string  { return ErrInvalidCode.Code }

// RateLimitError says when the address may try again. It matches ErrRateLimited.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("Too many attempts from this computer. Try again in %d seconds.", int(e.RetryAfter.Round(time.Second)/time.Second))
}
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }
func (e *RateLimitError) RefusalCode() string  { return ErrRateLimited.Code }

// SettingError is one refused setting: Field is the key the Settings page
// shows the Reason beside, and Reason is a whole sentence. Validation joins
// one per refused field (errors.Join); SettingErrors lists them. It matches
// ErrInvalidSetting.
type SettingError struct {
	Field  SettingField
	Reason string
}

func (e *SettingError) Error() string        { return string(e.Field) + ": " + e.Reason }
func (e *SettingError) Is(target error) bool { return target == ErrInvalidSetting }
func (e *SettingError) RefusalCode() string  { return ErrInvalidSetting.Code }

// AuditError points at the first audit row that does not verify. It matches
// ErrAuditBroken.
type AuditError struct {
	RowID  int64
	Reason string
}

func (e *AuditError) Error() string {
	return fmt.Sprintf("The audit log has been altered at entry %d: %s. Keep a copy of the database for investigation.", e.RowID, e.Reason)
}
func (e *AuditError) Is(target error) bool { return target == ErrAuditBroken }
func (e *AuditError) RefusalCode() string  { return ErrAuditBroken.Code }
