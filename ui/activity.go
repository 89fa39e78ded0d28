package ui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
)

// activityLimit is how many audit entries the page lists; a search reaches
// older ones.
const activityLimit = 500

// activityScreen is the Activity page: the audit log, newest first, with a
// search box and a check of the log's hash chain.
type activityScreen struct {
	st  *core.Station
	win fyne.Window
	loc *time.Location // where times are shown; tests pin it

	entries  []core.AuditEntry
	selected int64 // audit entry ID, 0 when none

	search   *widget.Entry
	count    *widget.Label
	list     *widget.List
	empty    *widget.Label
	detail   *widget.Label // the selected entry in full; rows cut long details
	verify   *widget.Button
	play     *widget.Button // the selected entry's recording (activity_recording.go)
	playName string
	player   *playerWindow // the last opened (tests)
	verdict  *widget.Label
	body     fyne.CanvasObject
	work     background
}

var activityWeights = []float32{1.1, 0.5, 1.3, 4}

func newActivityScreen(st *core.Station, win fyne.Window) *activityScreen {
	s := &activityScreen{st: st, win: win, loc: time.Local}
	s.search = &widget.Entry{PlaceHolder: "Search events and details, e.g. an email address or DESKTOP-7QK2"}
	s.search.ExtendBaseWidget(s.search)
	s.search.OnChanged = func(string) { s.reload() }
	s.count = &widget.Label{}
	s.list = &widget.List{
		Length:     func() int { return len(s.entries) },
		CreateItem: newActivityRow,
		UpdateItem: func(i widget.ListItemID, o fyne.CanvasObject) { s.showEntry(s.entries[i], o.(*fyne.Container)) },
	}
	s.list.OnSelected = s.onSelected
	s.list.ExtendBaseWidget(s.list)
	s.detail = &widget.Label{Wrapping: fyne.TextWrapWord, Text: activityHint}
	s.empty = &widget.Label{}
	s.verify = &widget.Button{Text: "Verify integrity", Icon: theme.ConfirmIcon(), OnTapped: s.onVerify}
	s.play = &widget.Button{Text: "Play recording", Icon: theme.MediaPlayIcon(), OnTapped: s.onPlay}
	s.play.Disable()
	s.verdict = &widget.Label{Wrapping: fyne.TextWrapWord,
		Text: "Each entry is chained to the one before it, so a changed or removed entry is detected."}
	s.body = s.layout()
	s.reload()
	return s
}

func (s *activityScreen) content() fyne.CanvasObject { return s.body }

func (s *activityScreen) layout() fyne.CanvasObject {
	title := titleLabel("Activity")
	var header []fyne.CanvasObject
	for _, t := range []string{"When", "Session", "Event", "Detail"} {
		header = append(header, &widget.Label{Text: t, TextStyle: fyne.TextStyle{Bold: true}, Truncation: fyne.TextTruncateEllipsis})
	}
	top := container.NewVBox(title, s.search, s.count, container.New(newColumnsLayout(activityWeights), header...), widget.NewSeparator())
	bottom := container.NewVBox(widget.NewSeparator(), s.detail, widget.NewSeparator(),
		container.NewBorder(nil, nil, nil, container.NewHBox(s.play, s.verify), s.verdict))
	return container.NewBorder(top, bottom, nil, nil, container.NewStack(s.list, centredMessage(s.empty)))
}

func newActivityRow() fyne.CanvasObject {
	cells := make([]fyne.CanvasObject, len(activityWeights))
	for i := range cells {
		cells[i] = &widget.Label{Truncation: fyne.TextTruncateEllipsis}
	}
	return container.New(newColumnsLayout(activityWeights), cells...)
}

func (s *activityScreen) showEntry(e core.AuditEntry, row *fyne.Container) {
	session := ""
	if e.SessionID != 0 {
		session = "#" + strconv.FormatInt(e.SessionID, 10)
	}
	for i, text := range []string{e.At.In(s.loc).Format("Mon 2 Jan 15:04:05"), session, e.Event, e.Detail} {
		l := row.Objects[i].(*widget.Label)
		if l.Text != text {
			l.SetText(text)
		}
	}
}

const activityHint = "Select an entry to read it in full."

func (s *activityScreen) onSelected(i widget.ListItemID) {
	e := s.entries[i]
	s.selected = e.ID
	text := e.At.In(s.loc).Format("Monday 2 January 2006 15:04:05") + " — " + e.Event
	if e.SessionID != 0 {
		text += " (session #" + strconv.FormatInt(e.SessionID, 10) + ")"
	}
	if e.Detail != "" {
		text += ": " + e.Detail
	}
	s.detail.SetText(text)
	s.selectedRecording(e)
}

// onEvent reloads: almost every core event appends an audit entry.
func (s *activityScreen) onEvent(core.Event) { s.reload() }

func (s *activityScreen) reload() {
	entries, err := s.st.Audit(context.Background(), core.AuditFilter{Search: s.search.Text, Limit: activityLimit})
	if err != nil {
		s.count.SetText(errorText(err))
		s.count.Importance = widget.DangerImportance
		s.count.Refresh()
		return
	}
	s.entries = entries
	s.list.Refresh()
	s.keepSelection()
	s.count.Importance = widget.MediumImportance
	switch {
	case len(entries) == activityLimit:
		s.count.SetText(fmt.Sprintf("Showing the newest %d entries; search to find older ones.", activityLimit))
	case s.search.Text != "":
		s.count.SetText(fmt.Sprintf("%s match “%s”.", plural(len(entries), "entry", "entries"), s.search.Text))
	default:
		s.count.SetText(plural(len(entries), "entry", "entries") + ", newest first.")
	}
	switch {
	case len(entries) > 0:
		s.empty.Hide()
		return
	case s.search.Text != "":
		s.empty.SetText("Nothing matches “" + s.search.Text + "”. Try part of an email address, a computer name or an event such as paired.")
	default:
		s.empty.SetText("Nothing has happened yet. Preparing, pairing and ending sessions are recorded here.")
	}
	s.empty.Show()
}

// keepSelection follows the selected entry to its new row after a reload.
func (s *activityScreen) keepSelection() {
	for i, e := range s.entries {
		if e.ID == s.selected {
			s.list.Select(i)
			return
		}
	}
	s.list.UnselectAll()
	s.selected = 0
	s.detail.SetText(activityHint)
	s.selectedRecording(core.AuditEntry{})
}

// onVerify walks the whole hash chain in the background — a long log
// takes a while — and says in plain words what it found.
func (s *activityScreen) onVerify() {
	s.verify.Disable()
	s.setVerdict("Checking every entry of the audit log…", widget.MediumImportance)
	s.work.run(jobVerify, func() func() {
		err := s.st.VerifyAudit(context.Background())
		problems, rerr := s.st.VerifyRecordings(context.Background())
		checked := s.st.Now().In(s.loc).Format("15:04:05")
		return func() {
			s.verify.Enable()
			switch {
			case err == nil && (rerr != nil || len(problems) > 0):
				s.setVerdict(recordingsVerdict(problems, rerr), widget.DangerImportance)
			case err == nil:
				// Body colour: green text is too faint on the light theme.
				s.setVerdict("The audit log is intact: no entry was changed or removed (checked at "+checked+").", widget.MediumImportance)
			case errors.Is(err, core.ErrAuditBroken):
				s.setVerdict(errorText(err), widget.DangerImportance)
			default:
				s.setVerdict("The audit log could not be checked. "+errorText(err), widget.DangerImportance)
			}
		}
	})
}

func (s *activityScreen) setVerdict(text string, imp widget.Importance) {
	s.verdict.Importance = imp
	s.verdict.TextStyle.Bold = imp == widget.DangerImportance
	s.verdict.SetText(text)
}
