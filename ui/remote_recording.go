package ui

import (
	"errors"

	"fyne.io/fyne/v2/widget"

	"adhocstation/core/record"
	"adhocstation/core/remote"
)

// The remote window says whether the session is recorded, and when
// recording stops early (a full disk) it says so there: the session goes
// on regardless.

const jobRecordingStopped = "recording stopped"

// recordingText is what the window says while the session is recorded.
const recordingText = "● Recording"

// newRecordingBadge is the window's recording label; a stop is shown
// through work.
func newRecordingBadge(rs *remote.RemoteSession, work *background) *widget.Label {
	l := &widget.Label{Text: "Not recorded", Importance: widget.LowImportance}
	rec, ok := rs.Recorder().(*record.Recorder)
	if !ok {
		return l
	}
	l.Text, l.Importance = recordingText, widget.DangerImportance
	work.run(jobRecordingStopped, func() func() {
		select {
		case <-rec.Stopped():
		case <-rec.Done():
			return func() {}
		}
		// The bar has room for a few words; the audit log keeps the sentence.
		text := "Recording stopped (the session goes on)"
		if errors.Is(rec.Problem(), record.ErrRecordingDiskFull) {
			text = "Recording stopped: the disk is full (the session goes on)"
		}
		return func() { l.SetText(text) }
	})
	return l
}
