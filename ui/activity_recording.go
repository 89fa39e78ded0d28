package ui

import (
	"fmt"

	"fyne.io/fyne/v2"

	"adhocstation/core"
)

// The Activity page opens the recording an entry is about ("recording
// saved" and its kin) in a player window, and its Verify integrity checks
// every recording against the audit log as well as the log itself.

// selectedRecording enables Play recording when e is about a recording.
func (s *activityScreen) selectedRecording(e core.AuditEntry) {
	if name, ok := core.RecordingName(e); ok {
		s.playName = name
		s.play.Enable()
		return
	}
	s.playName = ""
	s.play.Disable()
}

// onPlay opens the selected entry's recording.
func (s *activityScreen) onPlay() {
	if s.playName != "" {
		s.player = openPlayer(fyne.CurrentApp(), s.st, s.playName, s.win)
	}
}

// recordingsVerdict says which recordings failed the check.
func recordingsVerdict(problems []core.RecordingProblem, err error) string {
	if err != nil {
		return "The audit log is intact, but the recordings could not be checked. " + errorText(err)
	}
	text := fmt.Sprintf("The audit log is intact, but %s failed the check. ", plural(len(problems), "recording", "recordings"))
	return text + errorText(problems[0].Err)
}
