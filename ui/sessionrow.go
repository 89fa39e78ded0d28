package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
)

// sessionColumns are the Computers list's columns; the header and every row
// share one layout so they line up. The width is shared by weight, but no
// column gets less than its title and sample, the longest usual value, need
// while others have room to give (so "Windows 11 Pro" and "waiting" are not
// cut at 800×600).
var sessionColumns = []struct {
	title  string
	weight float32
	sample string
}{
	{"Computer", 1.3, "not paired yet"}, {"OS", 1.2, "Windows 11 Pro"}, {"Windows user", 0.9, ""},
	{"End user", 1.7, ""}, {"Technician", 1.1, ""}, {"State", 0.8, "● cancelled"}, {"Time left", 1, "23 h 59 min"},
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
	// dot carries the state's colour; the state's word stays in the body
	// colour, since light green or orange text is too faint on white.
	dot   *canvas.Rectangle
	color fyne.ThemeColorName
	sess  core.Session
	// open is called on a double tap (Fyne's list itself has none).
	open func(core.Session)
	// throughHub, if set, says whether a session's PC is online through
	// the relay hub.
	throughHub func(int64) bool
	// pick is called on a single tap. A DoubleTappable row is what the
	// desktop driver hands a click to, instead of the list item under it,
	// so the row must select itself.
	pick func(core.Session)
}

var (
	_ fyne.Widget         = (*sessionRow)(nil)
	_ fyne.DoubleTappable = (*sessionRow)(nil)
	_ fyne.Tappable       = (*sessionRow)(nil)
)

// Tapped selects the row's session, as a click on a list row does.
func (r *sessionRow) Tapped(*fyne.PointEvent) {
	if r.pick != nil {
		r.pick(r.sess)
	}
}

// DoubleTapped opens the row's session (Connect, when it can).
func (r *sessionRow) DoubleTapped(*fyne.PointEvent) {
	if r.open != nil {
		r.open(r.sess)
	}
}

func newSessionRow() *sessionRow {
	r := &sessionRow{}
	for range sessionColumns {
		r.cells = append(r.cells, &widget.Label{Truncation: fyne.TextTruncateEllipsis})
	}
	size := theme.Padding() * 2.5
	r.dot = &canvas.Rectangle{CornerRadius: size / 2}
	r.dot.SetMinSize(fyne.NewSquareSize(size))
	r.ExtendBaseWidget(r)
	return r
}

// newSessionHeader is the list's column titles in the rows' layout.
func newSessionHeader() fyne.CanvasObject {
	var cells []fyne.CanvasObject
	for _, c := range sessionColumns {
		cells = append(cells, &widget.Label{Text: c.title, TextStyle: fyne.TextStyle{Bold: true}, Truncation: fyne.TextTruncateEllipsis})
	}
	return container.New(newSessionColumns(), cells...)
}

func newSessionColumns() *columnsLayout {
	return &columnsLayout{weights: sessionWeights(), firsts: sessionColumnWidths}
}

func sessionWeights() []float32 {
	w := make([]float32, len(sessionColumns))
	for i, c := range sessionColumns {
		w[i] = c.weight
	}
	return w
}

// sessionColumnWidths are the columns' first widths in the current theme:
// the bold title or the sample, whichever is wider, with a label's padding.
func sessionColumnWidths() []float32 {
	size := theme.TextSize()
	w := make([]float32, len(sessionColumns))
	for i, c := range sessionColumns {
		title := fyne.MeasureText(c.title, size, fyne.TextStyle{Bold: true}).Width
		sample := fyne.MeasureText(c.sample, size, fyne.TextStyle{}).Width
		w[i] = max(title, sample) + 2*theme.InnerPadding()
	}
	return w
}

func (r *sessionRow) CreateRenderer() fyne.WidgetRenderer {
	objs := make([]fyne.CanvasObject, len(r.cells))
	for i, c := range r.cells {
		objs[i] = c
	}
	objs[colState] = container.NewBorder(nil, nil, container.NewCenter(r.dot), nil, r.cells[colState])
	return widget.NewSimpleRenderer(container.New(newSessionColumns(), objs...))
}

// Refresh also follows a theme change with the state's dot.
func (r *sessionRow) Refresh() {
	r.dot.FillColor = r.Theme().Color(r.color, fyne.CurrentApp().Settings().ThemeVariant())
	r.BaseWidget.Refresh()
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
	state, color := sessionStateText(sess)
	state = r.withHub(state)
	setLabel(r.cells[colComputer], computer, widget.MediumImportance)
	setLabel(r.cells[colOS], osName, widget.MediumImportance)
	setLabel(r.cells[colUser], user, widget.MediumImportance)
	setLabel(r.cells[colEmail], sess.UserEmail, widget.MediumImportance)
	setLabel(r.cells[colTechnician], sess.ProfileName, widget.MediumImportance)
	setLabel(r.cells[colState], state, widget.MediumImportance)
	if color != r.color {
		r.color = color
		r.dot.FillColor = r.Theme().Color(color, fyne.CurrentApp().Settings().ThemeVariant())
		r.dot.Refresh()
	}
	r.tick(now)
}

// tick updates the countdown, and whether an online PC comes through the
// hub (its channel may be marked a moment after the online event).
func (r *sessionRow) tick(now time.Time) {
	setLabel(r.cells[colTimeLeft], timeLeftText(r.sess, now), widget.MediumImportance)
	if r.throughHub != nil && r.sess.State == core.StateActive {
		state, _ := sessionStateText(r.sess)
		setLabel(r.cells[colState], r.withHub(state), widget.MediumImportance)
	}
}

// withHub says "via hub" instead of "online" (the dot stays green) when the
// PC's live channel comes through the relay hub: short enough for the
// column's width, which "● cancelled" sets.
func (r *sessionRow) withHub(state string) string {
	if state == "online" && r.throughHub != nil && r.throughHub(r.sess.ID) {
		return stateOnlineHub
	}
	return state
}

// stateOnlineHub is the State column for a PC online through the hub.
const stateOnlineHub = "via hub"

func setLabel(l *widget.Label, text string, imp widget.Importance) {
	if l.Text == text && l.Importance == imp {
		return
	}
	l.Text, l.Importance = text, imp
	l.Refresh()
}

// sessionStateText names a session's state the way a technician thinks of
// it — a paired session is "online" or "offline", not "active" — with the
// colour of its dot.
func sessionStateText(s core.Session) (string, fyne.ThemeColorName) {
	switch s.State {
	case core.StatePrepared:
		return "waiting", theme.ColorNameWarning
	case core.StateActive:
		if s.Computer != nil && s.Computer.Online {
			return "online", theme.ColorNameSuccess
		}
		return "offline", theme.ColorNameError
	case core.StateExpired:
		return "expired", theme.ColorNameDisabled
	case core.StateEnded:
		return "ended", theme.ColorNameDisabled
	case core.StateCancelled:
		return "cancelled", theme.ColorNameDisabled
	}
	return string(s.State), theme.ColorNameDisabled
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
// firsts, if set, gives each column the width it keeps while others have
// room to give.
type columnsLayout struct {
	weights []float32
	firsts  func() []float32
}

func newColumnsLayout(weights []float32) *columnsLayout { return &columnsLayout{weights: weights} }

func (l *columnsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	var total float32
	for _, w := range l.weights {
		total += w
	}
	free := size.Width - pad*float32(len(objs)-1)
	widths := make([]float32, len(objs))
	for i := range objs {
		widths[i] = free * l.weights[i] / total
	}
	if l.firsts != nil {
		fitFirsts(widths, l.firsts(), free)
	}
	x := float32(0)
	for i, o := range objs {
		o.Move(fyne.NewPos(x, 0))
		o.Resize(fyne.NewSize(widths[i], size.Height))
		x += widths[i] + pad
	}
}

// fitFirsts widens the columns narrower than their first width, taking the
// difference from the wider ones in proportion to what they have beyond
// theirs; with too little room for all first widths, they shrink alike.
func fitFirsts(widths, firsts []float32, free float32) {
	var deficit, surplus, sum float32
	for i, w := range widths {
		sum += firsts[i]
		if w < firsts[i] {
			deficit += firsts[i] - w
		} else {
			surplus += w - firsts[i]
		}
	}
	if deficit == 0 {
		return
	}
	if surplus <= deficit {
		for i := range widths {
			widths[i] = firsts[i] * free / sum
		}
		return
	}
	for i, w := range widths {
		if w < firsts[i] {
			widths[i] = firsts[i]
		} else {
			widths[i] = w - (w-firsts[i])*deficit/surplus
		}
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
