package ui

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/remote"
)

const (
	// Open lists the sessions that hold a seat: active ones and those still
	// waiting for their user to pair (counted apart in the summary).
	filterActive = "Open"
	filterAll    = "All"
	// Why Connect is disabled, beside it; hidden while it can be used.
	connectNoRow    = "Connect needs a selected row: an active session whose PC is online."
	connectPrepared = "Connect needs a paired PC: this session still waits for the user to run the app."
	connectClosed   = "Connect needs an active session: this one is %s."
	connectOffline  = "Connect needs the PC online: its app is not connected (the PC is off, asleep or off the network)."
)

// computersScreen is the Computers page: the Ad Hoc Support Sessions group.
// It keeps its own copy of the listed sessions, newest first, and updates
// one row per core event; rows are only re-laid out when they come or go.
type computersScreen struct {
	st  *core.Station
	win fyne.Window
	now func() time.Time
	// throughHub, when the window has a running pairing service, says
	// whether a session's PC holds its channel through the relay hub.
	throughHub func(int64) bool
	// team lists the sessions of the team's other stations (team.go).
	team *teamGroup

	activeOnly bool
	rows       []core.Session // ordered by ID, newest first, as core lists them
	selected   int64          // session ID, 0 when none
	// drawn are the row widgets the list has bound to rows (on screen or
	// pooled), for the countdown and for redrawing one row.
	drawn    map[*sessionRow]struct{}
	lastTick int64 // the second the countdown last showed
	// anySessions tells an empty Active list from a station with no sessions.
	anySessions bool

	filter  *widget.RadioGroup
	summary *widget.Label
	list    *widget.List
	empty   *widget.Label
	details *widget.Label
	status  *widget.Label
	connect *widget.Button
	// connectWhy says why Connect is disabled (hidden when it is not).
	connectWhy *widget.Label
	end        *widget.Button
	body       fyne.CanvasObject
	// work runs Connect off the Fyne goroutine; remotes are the open
	// remote session windows.
	work    background
	remotes []*remoteWindow
	// folders is the PC folder each session's Files tab last showed, for
	// the station's run: a new window goes back there.
	folders map[int64]string
}

// The window's tick drives the countdown; a renamed hook must not compile.
var _ ticking = (*computersScreen)(nil)

func newComputersScreen(st *core.Station, win fyne.Window) *computersScreen {
	s := &computersScreen{st: st, win: win, now: st.Now, activeOnly: true, drawn: map[*sessionRow]struct{}{},
		folders: map[int64]string{}, team: newTeamGroup()}
	s.team.win = win
	s.filter = &widget.RadioGroup{Options: []string{filterActive, filterAll}, Selected: filterActive, Horizontal: true, Required: true,
		OnChanged: s.onFilter}
	s.summary = &widget.Label{}
	s.list = &widget.List{
		Length: func() int { return len(s.rows) },
		CreateItem: func() fyne.CanvasObject {
			r := newSessionRow()
			r.open = s.onDoubleTap
			r.throughHub = func(id int64) bool { return s.throughHub != nil && s.throughHub(id) }
			r.pick = s.onTap
			return r
		},
		UpdateItem: s.updateRow,
		OnSelected: s.onSelected,
		OnUnselected: func(widget.ListItemID) {
			s.selected = 0
			s.updateActions()
		},
	}
	s.list.ExtendBaseWidget(s.list)
	s.empty = &widget.Label{}
	s.details = &widget.Label{Wrapping: fyne.TextWrapWord, Text: "Select a session to connect to it or end it."}
	s.status = &widget.Label{Wrapping: fyne.TextWrapWord, Importance: widget.DangerImportance}
	s.status.Hide()
	s.connect = &widget.Button{Text: "Connect", Icon: theme.ComputerIcon(), Importance: widget.HighImportance, OnTapped: s.onConnect}
	s.connect.Disable()
	s.connectWhy = &widget.Label{Text: connectNoRow, Wrapping: fyne.TextWrapWord}
	s.end = &widget.Button{Text: "End session now", Icon: theme.CancelIcon(), Importance: widget.DangerImportance, OnTapped: s.onEnd}
	s.end.Disable()
	s.body = s.layout()
	s.reload()
	return s
}

func (s *computersScreen) content() fyne.CanvasObject { return s.body }

func (s *computersScreen) layout() fyne.CanvasObject {
	title := titleLabel("Ad Hoc Support Sessions")
	top := container.NewVBox(
		container.NewBorder(nil, nil, title, container.NewHBox(widget.NewLabel("Show"), s.filter)),
		s.summary,
		newSessionHeader(),
		widget.NewSeparator(),
	)
	// The reason wraps between the buttons, so the bar fits a narrow window.
	actions := container.NewBorder(nil, nil, s.connect, s.end, s.connectWhy)
	bottom := container.NewVBox(s.team.box, widget.NewSeparator(), s.status, s.details, actions)
	return container.NewBorder(top, bottom, nil, nil, container.NewStack(s.list, centredMessage(s.empty)))
}

func (s *computersScreen) updateRow(i widget.ListItemID, o fyne.CanvasObject) {
	r := o.(*sessionRow)
	s.drawn[r] = struct{}{}
	r.set(s.rows[i], s.now())
}

// redrawRow shows sess in the row widgets bound to it. The list's own
// RefreshItem would do, but in Fyne 2.7.1 it refreshes the whole list
// renderer (every visible row and a template row); see docs/perf/ui-lists.md.
func (s *computersScreen) redrawRow(sess core.Session) {
	now := s.now()
	for r := range s.drawn {
		if r.sess.ID == sess.ID {
			r.set(sess, now)
		}
	}
}

// onEvent keeps the list current: one row for an event about one session,
// everything when the feed says events were missed.
func (s *computersScreen) onEvent(e core.Event) {
	switch {
	case e.Kind == core.EventLagged:
		s.reload()
	case e.SessionID != 0:
		s.refreshSession(e.SessionID)
	}
}

// reload reads the listed sessions again (start-up, filter change, lagged
// feed). The Active filter asks core for open sessions only, which spares
// copying a long history.
func (s *computersScreen) reload() {
	ctx := context.Background()
	rows, err := s.st.Sessions(ctx, core.SessionFilter{OpenOnly: s.activeOnly})
	if err == nil && len(rows) == 0 && s.activeOnly {
		var first []core.Session
		first, err = s.st.Sessions(ctx, core.SessionFilter{Limit: 1})
		s.anySessions = len(first) > 0
	} else {
		s.anySessions = len(rows) > 0
	}
	if err != nil {
		s.showError(err)
		return
	}
	s.clearError()
	s.rows = rows
	s.rowsChanged()
}

// refreshSession brings one session up to date. Only its row is redrawn
// unless it enters or leaves the list.
func (s *computersScreen) refreshSession(id int64) {
	sess, err := s.st.Session(context.Background(), id)
	if err != nil {
		s.showError(err)
		return
	}
	s.anySessions = true
	i, found := s.find(id)
	shown := !s.activeOnly || sess.State.Open()
	switch {
	case found && shown:
		s.rows[i] = sess
		s.redrawRow(sess)
		if id == s.selected {
			s.updateActions()
		}
		s.updateSummary()
	case found:
		s.rows = slices.Delete(s.rows, i, i+1)
		s.rowsChanged()
	case shown:
		s.rows = slices.Insert(s.rows, i, sess)
		s.rowsChanged()
	}
}

// find returns id's index in rows, or where it would go.
func (s *computersScreen) find(id int64) (int, bool) {
	i := sort.Search(len(s.rows), func(i int) bool { return s.rows[i].ID <= id })
	return i, i < len(s.rows) && s.rows[i].ID == id
}

// rowsChanged redraws the whole list after rows came or went and keeps the
// selection on the same session.
func (s *computersScreen) rowsChanged() {
	s.list.Refresh()
	if s.selected != 0 {
		if i, ok := s.find(s.selected); ok {
			s.list.Select(i)
		} else {
			s.list.UnselectAll()
			s.selected = 0
		}
	}
	s.updateSummary()
	s.updateActions()
}

func (s *computersScreen) updateSummary() {
	s.summary.SetText(sessionCounts(s.rows, !s.activeOnly))
	switch {
	case len(s.rows) > 0:
		s.empty.Hide()
		return
	case s.activeOnly && s.anySessions:
		s.empty.SetText("No open ad hoc support sessions — prepare one on the Ad Hoc Support tab, or choose All to see finished ones.")
	default:
		s.empty.SetText("No ad hoc support sessions yet — prepare one on the Ad Hoc Support tab.")
	}
	s.empty.Show()
}

// sessionCounts counts active sessions apart from the ones still waiting
// for their user to pair: a waiting session is not active yet. With total
// it starts with how many are listed.
func sessionCounts(rows []core.Session, total bool) string {
	active, waiting := 0, 0
	for _, r := range rows {
		switch r.State {
		case core.StateActive:
			active++
		case core.StatePrepared:
			waiting++
		}
	}
	text := plural(active, "active session", "active sessions")
	if waiting > 0 {
		text += fmt.Sprintf(", %d waiting for the user", waiting)
	}
	if total {
		text = plural(len(rows), "session", "sessions") + ": " + text
	}
	return text
}

func (s *computersScreen) onFilter(choice string) {
	s.activeOnly = choice != filterAll
	s.reload()
}

func (s *computersScreen) onSelected(i widget.ListItemID) {
	if s.rows[i].ID != s.selected {
		s.clearError() // a message about another session would mislead
	}
	s.selected = s.rows[i].ID
	s.updateActions()
}

// selectedSession returns the selected session as last seen.
func (s *computersScreen) selectedSession() (core.Session, bool) {
	if s.selected == 0 {
		return core.Session{}, false
	}
	i, ok := s.find(s.selected)
	if !ok {
		return core.Session{}, false
	}
	return s.rows[i], true
}

// updateActions enables End session now for an open session and says what
// the selection is.
func (s *computersScreen) updateActions() {
	sess, ok := s.selectedSession()
	if why := connectRefusal(sess, ok); why == "" {
		s.connect.Enable()
		s.connectWhy.Hide()
	} else {
		s.connect.Disable()
		s.connectWhy.SetText(why)
		s.connectWhy.Show()
	}
	if !ok {
		s.end.Disable()
		s.details.SetText("Select a session to connect to it or end it.")
		return
	}
	if sess.State.Open() {
		s.end.Enable()
	} else {
		s.end.Disable()
	}
	text := sessionDetails(sess)
	if sess.State == core.StateActive && s.throughHub != nil && s.throughHub(sess.ID) {
		text += " Its PC is online through the relay hub."
	}
	if route := pairedRoute(sess); route != "" {
		text += " " + route
	}
	s.details.SetText(text)
}

// connectRefusal says why Connect cannot be used for the selection ("":
// it can).
func connectRefusal(sess core.Session, selected bool) string {
	switch {
	case !selected:
		return connectNoRow
	case sess.State == core.StatePrepared:
		return connectPrepared
	case sess.State != core.StateActive:
		return fmt.Sprintf(connectClosed, sess.State)
	case sess.Computer == nil || !sess.Computer.Online:
		return connectOffline
	}
	return ""
}

// sessionDetails is one sentence about the selected session.
func sessionDetails(sess core.Session) string {
	const at = "Mon 2 Jan 15:04"
	who := fmt.Sprintf("Session for %s by %s", sess.UserEmail, sess.ProfileName)
	switch sess.State {
	case core.StatePrepared:
		return fmt.Sprintf("%s: waiting for the user to run the Support Session app; the invitation is valid until %s.",
			who, sess.InviteExpiresAt.Local().Format(at))
	case core.StateActive:
		c := computerOf(sess)
		return fmt.Sprintf("%s: paired with %s (%s, user %s), active until %s.", who, c.Hostname, c.OSName, c.WindowsUser,
			sess.ExpiresAt.Local().Format(at))
	}
	return fmt.Sprintf("%s: %s on %s.", who, sess.ClosedText(), sess.ClosedAt.Local().Format(at))
}

// pairedRoute says how the session's PC paired — through which hub, or
// directly — as recorded at pairing, so an offline PC says it too ("" for
// a session never paired).
func pairedRoute(sess core.Session) string {
	switch {
	case sess.Computer == nil:
		return ""
	case sess.ViaHub != "":
		return "Paired via hub " + core.HubHost(sess.ViaHub) + "."
	}
	return "Paired directly (not through a hub)."
}

// computerOf is the session's computer, or a stand-in naming none, so a
// session read between pairing steps cannot crash the page.
func computerOf(sess core.Session) core.Computer {
	if sess.Computer == nil {
		return core.Computer{Hostname: "The computer", OSName: "unknown OS", WindowsUser: "unknown"}
	}
	return *sess.Computer
}

// onConnect asks for the session's password and connects; the PC checks
// it. A refusal (wrong password with the tries left, locked, offline,
// ended) shows in the dialog, which stays open for another try; success
// closes it and opens a remote session window.
func (s *computersScreen) onConnect() {
	sess, ok := s.selectedSession()
	if !ok {
		return
	}
	// One window per session: a second one, the same size at the same
	// place, would hide under the first, and closing the top one would
	// look as if the close were ignored.
	for _, r := range s.remotes {
		if r.rs.SessionID == sess.ID {
			r.win.RequestFocus()
			return
		}
	}
	id := sess.ID
	passwordDialog(s.win, "Connect to "+computerOf(sess).Hostname, "", "", func(password string, answered func(error)) {
		s.connectTo(id, password, answered)
	}, s.showError, nil)
}

// passwordDialog is the Connect dialog: the session's password, Cancel and
// Connect. try gets the password and calls answered with the result on the
// Fyne goroutine: nil closes the dialog; a refusal (wrong password with the
// tries left, locked, offline, ended) shows in it, which stays open for
// another try, or, once the dialog was cancelled, goes to late. note, if
// set, is said above the password; waiting, if set, while a try runs.
// closed, if set, is called when the dialog closes either way.
func passwordDialog(win fyne.Window, title, note, waiting string, try func(password string, answered func(error)), late func(error), closed func()) {
	password := widget.NewPasswordEntry()
	password.PlaceHolder = "The password chosen for this session"
	refused := &widget.Label{Wrapping: fyne.TextWrapWord, Importance: widget.DangerImportance}
	refused.Hide()
	body := container.NewVBox(widget.NewForm(widget.NewFormItem("Password", password)), refused)
	if note != "" {
		body.Objects = append([]fyne.CanvasObject{&widget.Label{Text: note, Wrapping: fyne.TextWrapWord}}, body.Objects...)
	}
	d := dialog.NewCustomWithoutButtons(title, body, win)
	// Cancel before Connect, as the other dialogs have them (the
	// screenshots script tabs from the password past Cancel to Connect).
	cancel := &widget.Button{Text: "Cancel", Icon: theme.CancelIcon(), OnTapped: d.Hide}
	connect := &widget.Button{Text: "Connect", Icon: theme.ConfirmIcon(), Importance: widget.HighImportance}
	// A refusal that comes after Cancel goes under the list instead.
	dismissed := false
	d.SetOnClosed(func() {
		dismissed = true
		if closed != nil {
			closed()
		}
	})
	connect.OnTapped = func() {
		if connect.Disabled() {
			return
		}
		connect.Disable()
		if waiting != "" {
			refused.Importance = widget.MediumImportance
			refused.SetText(waiting)
			refused.Show()
		}
		try(password.Text, func(err error) {
			connect.Enable()
			switch {
			case err == nil:
				d.Hide()
				return
			case dismissed:
				late(err)
				return
			}
			refused.Importance = widget.DangerImportance
			refused.SetText(errorText(err))
			refused.Show()
			d.Resize(connectDialogSize) // the sentence takes lines
			password.SetText("")
			win.Canvas().Focus(password)
		})
	}
	password.OnSubmitted = func(string) { connect.OnTapped() }
	d.SetButtons([]fyne.CanvasObject{cancel, connect})
	d.Resize(connectDialogSize)
	d.Show()
	win.Canvas().Focus(password)
}

// connectDialogSize is wide enough for the password's placeholder whole
// and narrow enough for an 800×600 window; the height grows to fit.
var connectDialogSize = fyne.NewSize(520, 0)

// connectTo signs in and opens the remote session window; answered gets
// the refusal (nil: the window is open).
func (s *computersScreen) connectTo(id int64, password string, answered func(error)) {
	s.connect.Disable()
	s.work.run(jobConnect, func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		rs, err := s.st.Connect(ctx, id, password)
		return func() {
			s.updateActions()
			answered(err)
			if err != nil {
				return
			}
			s.clearError()
			s.openRemote(rs)
		}
	})
}

// openRemote opens the remote session window of a signed-in connection.
func (s *computersScreen) openRemote(rs *remote.RemoteSession) {
	r := newRemoteWindow(fyne.CurrentApp(), rs, &s.work)
	r.now = s.now
	r.end = func() error {
		if err := s.endSession(rs.SessionID); err != nil {
			return err
		}
		s.showNotice(fmt.Sprintf("The session on %s was ended by %s from the remote window at %s.",
			rs.Computer, rs.Technician, s.now().Local().Format(time.TimeOnly)))
		return nil
	}
	// Files opens where this session's last window left it.
	r.files.start = s.folders[rs.SessionID]
	r.files.moved = func(folder string) { s.folders[rs.SessionID] = folder }
	s.remotes = append(s.remotes, r)
	r.win.SetOnClosed(func() {
		r.screen.close()
		rs.Close() // the PC's tray says the technician left
		s.remotes = slices.DeleteFunc(s.remotes, func(o *remoteWindow) bool { return o == r })
	})
	r.win.Show()
	r.onRefresh()
}

// onTap selects the row's session.
func (s *computersScreen) onTap(sess core.Session) {
	if i, ok := s.find(sess.ID); ok {
		s.list.Select(i)
	}
}

// onDoubleTap selects the row's session and, for an online active PC,
// asks for the password as Connect does.
func (s *computersScreen) onDoubleTap(sess core.Session) {
	i, ok := s.find(sess.ID)
	if !ok {
		return
	}
	s.list.Select(i)
	if !s.connect.Disabled() {
		s.onConnect()
	}
}

// endActiveText is the confirmation's sentence for ending an active
// session, here and in its remote session windows.
func endActiveText(pc string) string {
	return fmt.Sprintf("%s can no longer be reached remotely. The Support Session app removes the remote user account and itself at its next check-in. The seat is freed now.", pc)
}

// onEnd asks before ending: the PC loses its remote account at once.
func (s *computersScreen) onEnd() {
	sess, ok := s.selectedSession()
	if !ok || !sess.State.Open() {
		return
	}
	title, msg, confirm := "End session now?", "", "End session"
	if sess.State == core.StatePrepared {
		title, confirm = "Cancel the invitation?", "Cancel invitation"
		msg = fmt.Sprintf("The invitation for %s stops working: its link and security code can no longer be used. The seat is freed now.", sess.UserEmail)
	} else {
		msg = endActiveText(computerOf(sess).Hostname)
	}
	id := sess.ID
	askFirst(s.win, title, msg, confirm, func() { s.endSession(id) })
}

// endSession ends the session and says so here; a remote session window
// shows the error in its own place too.
func (s *computersScreen) endSession(id int64) error {
	err := s.st.End(context.Background(), id)
	if err != nil {
		s.showError(err)
	} else {
		s.clearError()
	}
	// core publishes an event too; refreshing now keeps the page right even
	// if this window's feed is behind, and after a refusal shows why.
	s.refreshSession(id)
	return err
}

func (s *computersScreen) showError(err error) {
	s.status.Importance = widget.DangerImportance
	s.status.SetText(errorText(err))
	s.status.Show()
}

func (s *computersScreen) clearError() {
	if s.status.Visible() {
		s.status.Hide()
	}
}

// showNotice says what happened that is not a refusal, in the status's
// place (the next refusal or selection replaces it).
func (s *computersScreen) showNotice(text string) {
	s.status.Importance = widget.MediumImportance
	s.status.SetText(text)
	s.status.Show()
}

// onTick moves the time-left column on the window's once-a-second tick. It
// only touches the row widgets the list has bound, and a label only when its
// text changes.
func (s *computersScreen) onTick(now time.Time) {
	if now.Unix() == s.lastTick {
		return
	}
	s.team.refresh()
	s.lastTick = now.Unix()
	for r := range s.drawn {
		r.tick(now)
	}
}
