package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core/pairing"
)

// The team of stations (docs/TEAM.md) in the window: the Computers page
// lists the sessions of the team's other stations (read-only: taking over a
// PC paired at another station is not built), and Settings' hub group says
// the team's seats and stations. Both read the running pairing service's
// memory on each change the service reports (Options.TeamChanged) and on
// the window's once-a-second tick.

// teamGroup is the Computers page's "At other stations of the team" group.
type teamGroup struct {
	sessions func() []pairing.TeamSession // nil: no pairing service
	shown    []pairing.TeamSession
	title    *widget.Label
	list     *widget.Label
	box      *fyne.Container
}

func newTeamGroup() *teamGroup {
	g := &teamGroup{title: titleLabel("At other stations of the team"), list: &widget.Label{Wrapping: fyne.TextWrapWord}}
	g.box = container.NewVBox(widget.NewSeparator(), g.title, g.list)
	g.box.Hide()
	return g
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
	g.list.SetText(teamSessionsText(l))
	g.box.Show()
}

// teamSessionsText is one line per session of another station: who
// prepared it, which station, its state and whether its PC and its station
// are online. The sessions are shown, not controlled, from here.
func teamSessionsText(l []pairing.TeamSession) string {
	var b strings.Builder
	for i, s := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		pc := "PC offline"
		if s.PCOnline {
			pc = "PC online"
		}
		station := "station " + s.Station + " online"
		if !s.StationOnline {
			station = "station " + s.Station + " offline"
		}
		by := s.PreparedBy
		if by == "" {
			by = "someone"
		}
		fmt.Fprintf(&b, "From another station — prepared by %s at %s: %s, %s.", by, station, s.State, pc)
	}
	b.WriteString("\nThese sessions are run from their own station; connecting to them from here is not available yet.")
	return b.String()
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
