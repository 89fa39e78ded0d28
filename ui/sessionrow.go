package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
)

// sessionColumns are the Computers list's columns; the header and every row
// share one layout so they line up.
var sessionColumns = []struct {
	title  string
	weight float32
}{
	{"Computer", 1.3}, {"OS", 1.2}, {"Windows user", 0.9}, {"End user", 1.7},
	{"Technician", 1.1}, {"State", 0.8}, {"Time left", 1},
}

const (
	colComputer = iota
	colOS
	colUser
	colEmail
	colTechnician
	colState
	colTimeLeft
)

// sessionRow is one line of the Ad Hoc Support Sessions list. It keeps the
// session it shows so the countdown can tick without asking core again.
type sessionRow struct {
	widget.BaseWidget
	cells []*widget.Label
	sess  core.Session
}

var _ fyne.Widget = (*sessionRow)(nil)

func newSessionRow() *sessionRow {
	r := &sessionRow{}
	for range sessionColumns {
		r.cells = append(r.cells, &widget.Label{Truncation: fyne.TextTruncateEllipsis})
	}
	r.ExtendBaseWidget(r)
	return r
}

// newSessionHeader is the list's column titles in the rows' layout.
func newSessionHeader() fyne.CanvasObject {
	var cells []fyne.CanvasObject
	for _, c := range sessionColumns {
		cells = append(cells, &widget.Label{Text: c.title, TextStyle: fyne.TextStyle{Bold: true}, Truncation: fyne.TextTruncateEllipsis})
	}
	return container.New(newColumnsLayout(sessionWeights()), cells...)
}

func sessionWeights() []float32 {
	w := make([]float32, len(sessionColumns))
	for i, c := range sessionColumns {
		w[i] = c.weight
	}
	return w
}

func (r *sessionRow) CreateRenderer() fyne.WidgetRenderer {
	objs := make([]fyne.CanvasObject, len(r.cells))
	for i, c := range r.cells {
		objs[i] = c
	}
	return widget.NewSimpleRenderer(container.New(newColumnsLayout(sessionWeights()), objs...))
}

// set shows sess as of now. Labels are only refreshed when their text
// changes, which keeps a list refresh cheap.
func (r *sessionRow) set(sess core.Session, now time.Time) {
	r.sess = sess
	computer, osName, user := "not paired yet", "", ""
	if !sess.State.Open() {
		computer = "never paired"
	}
	if c := sess.Computer; c != nil {
		computer, osName, user = c.Hostname, c.OSName, c.WindowsUser
	}
	state, imp := sessionStateText(sess)
	setLabel(r.cells[colComputer], computer, widget.MediumImportance)
	setLabel(r.cells[colOS], osName, widget.MediumImportance)
	setLabel(r.cells[colUser], user, widget.MediumImportance)
	setLabel(r.cells[colEmail], sess.UserEmail, widget.MediumImportance)
	setLabel(r.cells[colTechnician], sess.ProfileName, widget.MediumImportance)
	setLabel(r.cells[colState], state, imp)
	r.tick(now)
}

// tick updates only the countdown.
func (r *sessionRow) tick(now time.Time) {
	setLabel(r.cells[colTimeLeft], timeLeftText(r.sess, now), widget.MediumImportance)
}

func setLabel(l *widget.Label, text string, imp widget.Importance) {
	if l.Text == text && l.Importance == imp {
		return
	}
	l.Text, l.Importance = text, imp
	l.Refresh()
}

// sessionStateText names a session's state the way a technician thinks of
// it: a paired session is "online" or "offline", not "active".
func sessionStateText(s core.Session) (string, widget.Importance) {
	switch s.State {
	case core.StatePrepared:
		return "waiting", widget.WarningImportance
	case core.StateActive:
		if s.Computer != nil && s.Computer.Online {
			return "online", widget.SuccessImportance
		}
		return "offline", widget.DangerImportance
	case core.StateExpired:
		return "expired", widget.LowImportance
	case core.StateEnded:
		return "ended", widget.LowImportance
	case core.StateCancelled:
		return "cancelled", widget.LowImportance
	}
	return string(s.State), widget.MediumImportance
}

// timeLeftText is the live countdown: minutes while an hour or more is
// left, seconds in the last hour, a dash once the session is closed.
func timeLeftText(s core.Session, now time.Time) string {
	if !s.State.Open() {
		return "—"
	}
	d := s.TimeLeft(now).Truncate(time.Second)
	switch {
	case d <= 0:
		return "due now"
	case d >= time.Hour:
		return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%d min %02d s", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
}

// columnsLayout shares a row's width between its objects by weight, so a
// header and the rows under it line up whatever the window's width.
type columnsLayout struct{ weights []float32 }

func newColumnsLayout(weights []float32) *columnsLayout { return &columnsLayout{weights: weights} }

func (l *columnsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	var total float32
	for _, w := range l.weights {
		total += w
	}
	free := size.Width - pad*float32(len(objs)-1)
	x := float32(0)
	for i, o := range objs {
		w := free * l.weights[i] / total
		o.Move(fyne.NewPos(x, 0))
		o.Resize(fyne.NewSize(w, size.Height))
		x += w + pad
	}
}

func (l *columnsLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h, w float32
	for _, o := range objs {
		m := o.MinSize()
		h = max(h, m.Height)
		w += m.Width
	}
	return fyne.NewSize(w+theme.Padding()*float32(len(objs)-1), h)
}
