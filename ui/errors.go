package ui

import (
	"context"
	"errors"
	"log/slog"

	"adhocstation/core"
)

// internalErrorText is what the technician reads for an error that is not
// a refusal: its own words are for the log, not for the screen.
const internalErrorText = "Something went wrong: internal error, see the log. Try again; if it keeps happening, check the Activity page too."

// errorText is the one place where an error becomes the sentence a
// technician reads. Refusals (core.Refusal: core's and its sub-packages')
// carry their sentence, so a new refusal needs no change here; anything
// else is logged and shown as an internal error.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	if text, ok := core.RefusalText(err); ok {
		return text
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return "The station took too long to answer. Try again."
	}
	slog.Error("internal error shown to the technician", "err", err)
	return internalErrorText
}

// problemText is the banner for a pairing service that did not start.
func problemText(err error) string {
	return "PCs cannot pair. " + errorText(err)
}
