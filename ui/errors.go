package ui

import (
	"context"
	"errors"
	"strings"

	"adhocstation/core"
	"adhocstation/core/mail"
)

// errorText is the one place where an error becomes the sentence a
// technician reads: what happened and what to do next. Core's typed errors
// already carry plain wording; this adds the next step where core cannot
// know it (it does not know about buttons) and keeps unknown errors from
// reaching the screen as bare Go error strings.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	var (
		seat    *core.SeatError
		email   *core.EmailError
		pw      *core.PasswordError
		setting *core.SettingError
		code    *core.CodeError
		limit   *core.RateLimitError
		audit   *core.AuditError
		smtp    *mail.Error
	)
	switch {
	case errors.As(err, &seat):
		return seat.Error()
	case errors.Is(err, core.ErrNoSeat):
		return "All seats are in use — end a session to free one."
	case errors.As(err, &email):
		return email.Error()
	case errors.Is(err, core.ErrInvalidEmail):
		return "That is not a valid email address. Check it for typos, e.g. anna@example.com."
	case errors.As(err, &pw):
		return pw.Rule // core's rules already say what to type instead
	case errors.Is(err, core.ErrWeakPassword):
		return "The password is too weak. Choose a longer one."
	case errors.As(err, &setting):
		return "Check " + setting.Field + ": " + setting.Reason + "."
	case errors.As(err, &code):
		return code.Error()
	case errors.As(err, &limit):
		return limit.Error()
	case errors.As(err, &audit):
		return audit.Error() + " Keep a copy of the database for investigation."
	case errors.As(err, &smtp):
		return smtp.Error() // already names the step and quotes the server
	case errors.Is(err, core.ErrInvitationNotNeeded), errors.Is(err, core.ErrSMTPNotConfigured):
		return err.Error()
	case errors.Is(err, core.ErrNotPrepared):
		return core.ErrNotPrepared.Error() + " Look it up on the Computers page."
	case errors.Is(err, core.ErrSessionClosed):
		return core.ErrSessionClosed.Error() + " Its state is on the Computers page."
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "The station took too long to answer. Try again."
	case isCoreSentinel(err):
		return err.Error()
	}
	return "Something went wrong: " + sentence(err.Error()) + " Try again; if it keeps happening, check the Activity page and the station's log."
}

// coreSentinels already read as full sentences with the next step.
var coreSentinels = []error{
	core.ErrProfileBusy, core.ErrProfileNotFound, core.ErrProfileExists, core.ErrInvalidName,
	core.ErrPasswordMismatch, core.ErrPasswordInUse, core.ErrSessionNotFound, core.ErrUnknownToken, core.ErrInvitationExpired,
	core.ErrCodeBurned, core.ErrNotWindows, core.ErrAlreadyPaired, core.ErrRateLimited,
}

func isCoreSentinel(err error) bool {
	for _, s := range coreSentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// sentence ends a lower-level error message with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "an unknown error."
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
