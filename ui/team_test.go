package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/pairing"
	"adhocstation/hub/hubtest"
)

// teamPC is a real station (its own SQLite) with its pairing service,
// joined to a real hub in team acme.
func teamPC(t *testing.T, h *hubtest.Hub, clock *coretest.Clock) (*core.Station, *pairing.Server, chan pairing.TeamState, chan []pairing.TeamSession, chan pairing.HubState) {
	t.Helper()
	states, lists, links := make(chan pairing.TeamState, 256), make(chan []pairing.TeamSession, 256), make(chan pairing.HubState, 256)
	st := coretest.OpenWith(t, t.TempDir(), clock, nil)
	srv, err := pairing.Start(t.Context(), st, pairing.Options{ListenAddr: "127.0.0.1:0", AgentExe: []byte("MZ"), HubClient: h.Client,
		TeamLeaseTTL: 2 * time.Second,
		OnTeamState:  func(s pairing.TeamState) { states <- s },
		OnTeamList:   func(l []pairing.TeamSession) { lists <- l },
		OnHubState:   func(s pairing.HubState) { links <- s }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if _, err := st.JoinHub(t.Context(), h.Client, h.URL, h.TeamCode("acme")); err != nil {
		t.Fatal(err)
	}
	return st, srv, states, lists, links
}

// TestTeamOnComputersAndSettings: with two real stations in team acme at a
// real hub, B's Computers page lists A's session as from another station
// (who prepared it, which station, online), live as A's service publishes
// it, and it leaves the page when A cancels it; B's Settings say "Team:
// acme, 3 seats, 2 stations online".
func TestTeamOnComputersAndSettings(t *testing.T) {
	clock := coretest.NewClock(coretest.Start)
	h := hubtest.Start(t, clock.Now)
	h.StartTeam(map[string]int{"acme": 3})
	stA, srvA, statesA, _, _ := teamPC(t, h, clock)
	stB, srvB, statesB, listsB, linksB := teamPC(t, h, clock)
	for s := coretest.Receive(t, linksB, "B's hub link"); !s.Connected; s = coretest.Receive(t, linksB, "B's hub link") {
	}
	for _, ch := range []chan pairing.TeamState{statesA, statesB} {
		for s := coretest.Receive(t, ch, "the team to connect"); !(s.Connected && s.Online == 2); s = coretest.Receive(t, ch, "both stations online") {
		}
	}

	w := testWindow(t)
	computers := newComputersScreen(stB, w)
	computers.team.sessions = srvB.TeamSessions
	w.SetContent(computers.content())
	computers.onTick(clock.Now())
	if computers.team.box.Visible() {
		t.Fatalf("no session anywhere, yet the team group shows %q", computers.team.list.Text)
	}

	_, prep := coretest.MustPrepare(t, stA, "Anna Tech", "anna@example.org")
	for l := coretest.Receive(t, listsB, "A's session on B"); len(l) != 1; l = coretest.Receive(t, listsB, "A's session on B") {
	}
	// The window follows the change without its tick (Options.TeamChanged).
	changed := make(chan struct{}, 1)
	win, _, _, work := uiTestWindow(t, Options{TeamSessions: srvB.TeamSessions, TeamState: srvB.TeamState, TeamChanged: changed})
	changed <- struct{}{}
	work.wait(t, jobTeam)
	if g := win.screens[1].(*computersScreen).team; !g.box.Visible() || !strings.Contains(g.list.Text, "prepared by Anna Tech") {
		t.Fatalf("the window's Computers page after a team change: %q (visible %v)", g.list.Text, g.box.Visible())
	}

	clock.Advance(time.Second)
	computers.onTick(clock.Now())
	text := computers.team.list.Text
	if !computers.team.box.Visible() || !strings.Contains(text, "From another station") || !strings.Contains(text, "prepared by Anna Tech") ||
		!strings.Contains(text, "station "+srvA.HubState().StationID+" online") || !strings.Contains(text, "PC offline") {
		t.Fatalf("B's Computers page shows %q (visible %v)", text, computers.team.box.Visible())
	}

	set := newSettingsScreen(stB, test.NewTempWindow(t, nil))
	set.win.SetContent(set.content())
	label := set.showHub(srvB.HubState)
	set.teamState = srvB.TeamState
	set.onTick(clock.Now())
	if want := "Team: acme, 3 seats, 2 stations online."; !strings.Contains(label.Text, want) || label.Importance != widget.SuccessImportance {
		t.Fatalf("B's Settings say %q (%v), want %q", label.Text, label.Importance, want)
	}

	if err := stA.Cancel(t.Context(), prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	for l := coretest.Receive(t, listsB, "A's session gone from B"); len(l) != 0; l = coretest.Receive(t, listsB, "A's session gone from B") {
	}
	clock.Advance(time.Second)
	computers.onTick(clock.Now())
	if computers.team.box.Visible() {
		t.Fatalf("A's cancelled session still shown on B: %q", computers.team.list.Text)
	}
}
