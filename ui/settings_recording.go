package ui

import (
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
)

// The Settings page's Recording group: whether remote sessions are
// recorded, and for how many days recordings are kept.

const fieldRetention = string(core.FieldRetention)

const day = 24 * time.Hour

// buildRecording makes the group's switch and its days field.
func (s *settingsScreen) buildRecording() {
	s.recordOn = &widget.Check{Text: "Record remote sessions"}
	s.recordOn.ExtendBaseWidget(s.recordOn)
	e := newFormEntry("")
	e.OnSubmitted = func(string) { s.onSave() }
	s.entries[fieldRetention] = e
}

// recordingRows are the group's heading and rows.
func (s *settingsScreen) recordingRows() []fyne.CanvasObject {
	rows := s.heading("Recording", "Each remote session is recorded here (screen, commands, chat, transfers), sealed and entered in the audit log. The invitation and join page tell the user. Older recordings are deleted.")
	rows = append(rows, s.row("Record", s.recordOn)...)
	return append(rows, s.row(fieldRetention+" (days)", s.entries[fieldRetention])...)
}

func (s *settingsScreen) loadRecording(set core.Settings) {
	s.recordOn.SetChecked(set.Recording.Enabled)
	s.entries[fieldRetention].SetText(strconv.Itoa(int(set.Recording.Retention / day)))
}

func (s *settingsScreen) readRecording(set *core.Settings, bad map[string]string) {
	set.Recording.Enabled = s.recordOn.Checked
	n, err := strconv.Atoi(strings.TrimSpace(s.entries[fieldRetention].Text))
	if err != nil {
		bad[fieldRetention] = "Enter the number of days as a whole number, e.g. 30."
	}
	set.Recording.Retention = time.Duration(n) * day
}
