package ui

import (
	"context"
	"fmt"
	"os/user"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/pairing"
)

// The team of stations (docs/TEAM.md) in the window: the Computers page
// lists the sessions of the team's other stations, each with End session
// now (connecting to a PC paired at another station is not built), and Settings' hub group says
// the team's seats and stations. Both read the running pairing service's
// memory on each change the service reports (Options.TeamChanged) and on
// the window's once-a-second tick.

// teamGroup is the Computers page's "At other stations of the team" group:
// one row per session of another station, with End session now.
type teamGroup struct {
	sessions func() []pairing.TeamSession // nil: no pairing service
	// requestEnd asks the owning station to end its session (nil: the
	// button is not offered); technician names who asks, here.
	requestEnd func(ctx context.Context, owner, session, preparedBy, technician string) (bool, error)
	technician func() string
	taker      *teamTaker // Connect on the lines (teamconnect.go); nil: not offered
	win        fyne.Window
	shown      []pairing.TeamSession
	title      *widget.Label
	rows       *fyne.Container
	lines      []*widget.Label
	ends       []*widget.Button
	note       *widget.Label
	status     *widget.Label // what became of the last request
	box        *fyne.Container
}

func newTeamGroup() *teamGroup {
	g := &teamGroup{title: titleLabel("At other stations of the team"), rows: container.NewVBox(),
		note:   &widget.Label{Wrapping: fyne.TextWrapWord},
		status: &widget.Label{Wrapping: fyne.TextWrapWord}}
	g.status.Hide()
	g.box = container.NewVBox(widget.NewSeparator(), g.title, g.rows, g.note, g.status)
	g.box.Hide()
	return g
}

// text is what the group says now, its rows and note (tests read it).
func (g *teamGroup) text() string {
	var parts []string
	for _, l := range g.lines {
		parts = append(parts, l.Text)
	}
	return strings.Join(append(parts, g.note.Text), "\n")
}

// refresh shows the team's other sessions now; the group is hidden while
// there are none.
func (g *teamGroup) refresh() {
	var l []pairing.TeamSession
	if g.sessions != nil {
		l = g.sessions()
	}
	if slices.Equal(l, g.shown) && (len(l) > 0) == g.box.Visible() {
		return
	}
	g.shown = l
	if len(l) == 0 {
		g.box.Hide()
		return
	}
	g.lines, g.ends = nil, nil
	var rows []fyne.CanvasObject
	for _, s := range l {
		line := &widget.Label{Text: teamSessionLine(s), Wrapping: fyne.TextWrapWord}
		g.lines = append(g.lines, line)
		if g.requestEnd == nil {
			rows = append(rows, line)
			continue
		}
		s := s
		end := &widget.Button{Text: "End session now", Icon: theme.CancelIcon(), Importance: widget.DangerImportance,
			OnTapped: func() { g.onEnd(s) }}
		g.ends = append(g.ends, end)
		rows = append(rows, container.NewBorder(nil, nil, nil, g.lineActions(s, end), line)) // Connect: teamconnect.go
	}
	g.rows.Objects = rows
	g.rows.Refresh()
	g.note.SetText(g.noteText()) // teamconnect.go
	g.box.Show()
}

// onEnd asks first, in the words of the station's own End session now, then
// sends the request through the team and says what became of it.
func (g *teamGroup) onEnd(s pairing.TeamSession) {
	by := s.PreparedBy
	if by == "" {
		by = "someone"
	}
	msg := fmt.Sprintf("The session prepared by %s at station %s ends: its PC can no longer be reached remotely. The Support Session app removes the remote user account and itself at its next check-in. The seat is freed when that station ends it.", by, stationLabel(s))
	if !s.StationOnline {
		msg += " Station " + stationLabel(s) + " is offline now: the session ends when it next connects."
	}
	askFirst(g.win, "End session now?", msg, "End session", func() { g.sendEnd(s) })
}

func (g *teamGroup) sendEnd(s pairing.TeamSession) {
	tech := ""
	if g.technician != nil {
		tech = g.technician()
	}
	online, err := g.requestEnd(context.Background(), s.Station, s.Session, s.PreparedBy, tech)
	switch {
	case err != nil:
		g.status.Importance = widget.DangerImportance
		g.status.SetText(errorText(err))
	case online:
		g.status.Importance = widget.MediumImportance
		g.status.SetText("Station " + stationLabel(s) + " was asked to end the session; it leaves this list once ended there.")
	default:
		g.status.Importance = widget.WarningImportance
		g.status.SetText("Station " + stationLabel(s) + " is offline; the session will end when it next connects, or at its 24-hour end.")
	}
	g.status.Show()
}

// teamSessionLine is one session of another station: who prepared it,
// which station, its state and whether its PC and its station are online.
func teamSessionLine(s pairing.TeamSession) string {
	pc := "PC offline"
	if s.PCOnline {
		pc = "PC online"
	}
	if s.Computer != "" {
		pc = "PC " + s.Computer + pc[len("PC"):]
	}
	station := "station " + stationLabel(s) + " (online)"
	if !s.StationOnline {
		station = "station " + stationLabel(s) + " (offline)"
	}
	by := s.PreparedBy
	if by == "" {
		by = "someone"
	}
	return fmt.Sprintf("From another station — prepared by %s at %s: %s, %s.", by, station, s.State, pc)
}

// stationLabel names another station by its name (as it told the team),
// else by its id at the hub (a station that never said its name).
func stationLabel(s pairing.TeamSession) string {
	if s.StationName != "" {
		return s.StationName
	}
	return s.Station
}

// teamNote says what can be done from here with those sessions.
func teamNote(canEnd bool) string {
	if canEnd {
		return "These sessions are run from their own station; from here they can be ended, not connected to (not available yet)."
	}
	return "These sessions are run from their own station; connecting to them from here is not available yet."
}

// technicianAt names who asks from this station: the one profile's name at
// a desk, else the desktop user running the station (a kiosk holds several
// profiles and no one is signed in).
func technicianAt(st *core.Station) func() string {
	return func() string {
		if ps, err := st.Profiles(context.Background()); err == nil && len(ps) == 1 {
			return ps[0].Name
		}
		if u, err := user.Current(); err == nil && u.Username != "" {
			return "desktop user " + u.Username
		}
		return "unknown"
	}
}

// teamText is the team line of Settings' hub group; "" for a station of no
// team.
func teamText(st pairing.TeamState) string {
	switch {
	case st.Team == "" && st.LastError == "":
		return ""
	case st.Team == "":
		return "Team: not known yet — " + st.LastError
	case st.Revoked || (st.LastError != "" && !st.Connected):
		return "Team: " + st.Team + " — " + st.LastError
	}
	return fmt.Sprintf("Team: %s, %d seats, %d stations online.", st.Team, st.Seats, st.Online)
}
