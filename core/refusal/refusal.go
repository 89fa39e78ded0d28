// Package refusal is the one refusal type of the station's packages: an
// error a person may read as it is. core, core/remote and core/mail use it
// (core keeps aliases, so core.Error and core.ErrNoSeat read as before);
// it imports nothing of the station, so any package may.
package refusal

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Refusal marks an error a person may read as it is: its Error() is a whole
// sentence in plain words, what happened and what to do next, and
// RefusalCode names the kind of refusal in a stable word for scripts and
// logs. *Error and the typed errors of core and core/remote carry the mark,
// and so does mail.Error. Any other error is internal: the UI shows
// "something went wrong" and the log keeps the details.
type Refusal interface {
	error
	RefusalCode() string
}

// Error is a refusal that needs no more than its sentence. Exported
// sentinels (core.ErrNoSeat, ...) are *Error values; Errorf makes others.
type Error struct {
	Code    string // stable, e.g. "no_seat"; the pairing API's wire codes use the same words
	Message string // the whole sentence shown to the person
	Err     error  // the cause, for the log and errors.Is; never shown on its own
}

func (e *Error) Error() string       { return e.Message }
func (e *Error) RefusalCode() string { return e.Code }
func (e *Error) Unwrap() error       { return e.Err }

// Is matches any *Error of the same code, so a refusal made with Errorf
// matches its sentinel.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Errorf makes a refusal whose message is formatted like fmt.Errorf; an
// error given with %w stays reachable through errors.Is and errors.As.
func Errorf(code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), Err: errors.Unwrap(err)}
}

// Text returns err's sentence when it (or every error it joins) is a
// refusal, and false for an internal error that must not reach a person as
// it is. Joined refusals read as their sentences one after the other.
func Text(err error) (string, bool) {
	switch e := err.(type) {
	case Refusal:
		return e.Error(), true
	case interface{ Unwrap() []error }:
		var texts []string
		for _, part := range e.Unwrap() {
			t, ok := Text(part)
			if !ok {
				return "", false
			}
			texts = append(texts, t)
		}
		return strings.Join(texts, " "), len(texts) > 0
	case interface{ Unwrap() error }:
		return Text(e.Unwrap())
	}
	return "", false
}

// listed is every sentinel, in the order they are made (package
// initialisation, one at a time).
var listed []*Error

// New makes a sentinel refusal and lists it for All. Every exported Err*
// value of a package that uses this one is made here (a test checks it).
func New(code, message string) *Error {
	e := &Error{Code: code, Message: message}
	listed = append(listed, e)
	return e
}

// All lists every sentinel refusal of the packages linked in, in the order
// they were made, so a test or a document can check that each one reads as
// its own sentence.
func All() []*Error { return slices.Clone(listed) }
