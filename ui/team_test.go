package ui

import (
	"context"
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
		t.Fatalf("no session anywhere, yet the team group shows %q", computers.team.text())
	}

	_, prep := coretest.MustPrepare(t, stA, "Anna Tech", "anna@example.org")
	for l := coretest.Receive(t, listsB, "A's session on B"); len(l) != 1; l = coretest.Receive(t, listsB, "A's session on B") {
	}
	// The window follows the change without its tick (Options.TeamChanged).
	changed := make(chan struct{}, 1)
	win, _, _, work := uiTestWindow(t, Options{TeamSessions: srvB.TeamSessions, TeamState: srvB.TeamState, TeamChanged: changed})
	changed <- struct{}{}
	work.wait(t, jobTeam)
	if g := win.screens[1].(*computersScreen).team; !g.box.Visible() || !strings.Contains(g.text(), "prepared by Anna Tech") {
		t.Fatalf("the window's Computers page after a team change: %q (visible %v)", g.text(), g.box.Visible())
	}

	// A is named as it told the team (its host name here), not by its id.
	nameOfA := srvB.TeamSessions()[0].StationName
	if nameOfA == "" {
		t.Fatal("B does not know A's name")
	}
	clock.Advance(time.Second)
	computers.onTick(clock.Now())
	text := computers.team.text()
	if !computers.team.box.Visible() || !strings.Contains(text, "From another station") || !strings.Contains(text, "prepared by Anna Tech") ||
		!strings.Contains(text, "station "+nameOfA+" (online)") || strings.Contains(text, srvA.HubState().StationID) || !strings.Contains(text, "PC offline") {
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
		t.Fatalf("A's cancelled session still shown on B: %q", computers.team.text())
	}
}

// TestEndSessionOfAnotherStation: on B's Computers page, A's session has
// End session now; Keep it leaves it, End session sends the request through
// the team and A (a real station with its own SQLite) ends it — here a
// prepared one, so it is cancelled — naming B and its technician; B's page
// says A was asked, and the line leaves once A released it.
func TestEndSessionOfAnotherStation(t *testing.T) {
	clock := coretest.NewClock(coretest.Start)
	h := hubtest.Start(t, clock.Now)
	h.StartTeam(map[string]int{"acme": 3})
	stA, srvA, statesA, _, _ := teamPC(t, h, clock)
	stB, srvB, statesB, listsB, _ := teamPC(t, h, clock)
	for _, ch := range []chan pairing.TeamState{statesA, statesB} {
		for s := coretest.Receive(t, ch, "the team to connect"); !(s.Connected && s.Online == 2); s = coretest.Receive(t, ch, "both stations online") {
		}
	}
	_, prep := coretest.MustPrepare(t, stA, "Anna Tech", "anna@example.org")
	for l := coretest.Receive(t, listsB, "A's session on B"); len(l) != 1; l = coretest.Receive(t, listsB, "A's session on B") {
	}

	w := testWindow(t)
	computers := newComputersScreen(stB, w)
	computers.team.sessions = srvB.TeamSessions
	computers.team.requestEnd = srvB.RequestTeamEnd
	computers.team.technician = func() string { return "Bea Tech" }
	w.SetContent(computers.content())
	computers.onTick(clock.Now())
	g := computers.team
	if !g.box.Visible() || len(g.ends) != 1 || g.ends[0].Disabled() {
		t.Fatalf("B's team group: %q, %d End buttons", g.text(), len(g.ends))
	}
	test.Tap(g.ends[0])
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no confirmation dialog")
	}
	test.Tap(findButton(t, top, "Keep it"))
	if s, _ := stA.Session(t.Context(), prep.Session.ID); s.State != core.StatePrepared {
		t.Fatalf("A's session after Keep it on B: %s", s.State)
	}

	sub := stA.Subscribe()
	defer sub.Close()
	name := g.shown[0].StationName // the line may be gone from B's list as soon as A ended it
	test.Tap(g.ends[0])
	test.Tap(findButton(t, w.Canvas().Overlays().Top(), "End session"))
	if !g.status.Visible() || name == "" || !strings.Contains(g.status.Text, "Station "+name+" was asked to end the session") ||
		strings.Contains(g.status.Text, srvA.HubState().StationID) {
		t.Fatalf("B's page says %q", g.status.Text)
	}
	for e := coretest.Receive(t, sub.C, "A's session cancelled"); e.Kind != core.EventCancelled; e = coretest.Receive(t, sub.C, "A's session cancelled") {
	}
	s, err := stA.Session(t.Context(), prep.Session.ID)
	if want := "cancelled at the request of station " + srvB.HubState().StationID + " (technician Bea Tech)"; err != nil || s.State != core.StateCancelled || s.CloseReason != want {
		t.Fatalf("A's session: %s %q %v, want cancelled %q", s.State, s.CloseReason, err, want)
	}
	for l := coretest.Receive(t, listsB, "A's line gone"); len(l) != 0; l = coretest.Receive(t, listsB, "A's line gone") {
	}
	clock.Advance(time.Second)
	computers.onTick(clock.Now())
	if g.box.Visible() {
		t.Fatalf("A's ended session still on B: %q", g.text())
	}
}

// TestEndSessionOfOfflineStationSaysSo: the request to an offline station
// is kept, and B's page says plainly when it will end (words only; the
// waiting and the execution are core/pairing's TestEndRequestWaitsForOfflineStation).
func TestEndSessionOfOfflineStationSaysSo(t *testing.T) {
	test.NewTempApp(t)
	g := newTeamGroup()
	g.win = test.NewTempWindow(t, nil)
	var asked []string
	g.requestEnd = func(_ context.Context, owner, session, by, tech string) (bool, error) {
		asked = append(asked, owner+"/"+session+"/"+by+"/"+tech)
		return false, nil
	}
	g.technician = func() string { return "Bea Tech" }
	g.sessions = func() []pairing.TeamSession {
		return []pairing.TeamSession{{Station: "stA", Session: "7", PreparedBy: "Anna Tech", State: "waiting"}}
	}
	g.win.SetContent(g.box)
	g.refresh()
	if !strings.Contains(g.text(), "station stA (offline)") {
		t.Fatalf("the line says %q", g.text())
	}
	test.Tap(g.ends[0])
	top := g.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no confirmation dialog")
	}
	test.Tap(findButton(t, top, "End session"))
	if want := "Station stA is offline; the session will end when it next connects, or at its 24-hour end."; g.status.Text != want {
		t.Fatalf("B's page says %q, want %q", g.status.Text, want)
	}
	if len(asked) != 1 || asked[0] != "stA/7/Anna Tech/Bea Tech" {
		t.Fatalf("asked %v", asked)
	}
}
