// Package applog is how the app's parts (the session's App, the pipe's
// Hub, the screen helper) write their progress lines. It imports only the
// standard library.
package applog

import (
	"io"
	"log"
)

// Logger is a *log.Logger that may be nil: a part given no log (tests, the
// setup console) writes through it without checking, and the line goes
// nowhere. Never give it a password, code or agent key.
type Logger log.Logger

// New is log.New as a Logger.
func New(out io.Writer, prefix string, flag int) *Logger {
	return (*Logger)(log.New(out, prefix, flag))
}

// From makes l a Logger (nil stays nil: nothing is written).
func From(l *log.Logger) *Logger { return (*Logger)(l) }

// Printf writes one line, or nothing when l is nil.
func (l *Logger) Printf(format string, args ...any) {
	if l != nil {
		(*log.Logger)(l).Printf(format, args...)
	}
}
