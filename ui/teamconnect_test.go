package ui

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/hashicorp/yamux"

	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/pairing"
	"adhocstation/core/remote"
)

// teamTestChannel is a PC's live channel as station B holds it after a
// takeover: the real agent code serves it (the password check and the
// System tab replaced as in remote_test.go); the hub's part, bringing it
// here, is core/pairing's (TestConnectToPCOfAnotherStation).
func teamTestChannel(t *testing.T, password string) *yamux.Session {
	t.Helper()
	station, pc := net.Pipe()
	ys, err := yamux.Server(station, nil)
	if err != nil {
		t.Fatal(err)
	}
	yc, err := yamux.Client(pc, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ys.Close(); yc.Close() })
	go (&support.App{Sys: &remoteTestPC{password: password}, UI: remoteTestTray{}}).ServeChannel(yc, "Anna Tech")
	return ys
}

// TestConnectOnAnotherStationsLine: on B's Computers page a line of another
// station's session has Connect (disabled while that station is online and
// its PC is not). Connect asks for the password in the Connect dialog with
// the note that the hub hands the PC over; a takeover that fails says why
// in the dialog; a wrong password says the tries left and keeps the PC here
// for the next try; the right one opens the remote window on the PC. Its
// End session now asks the owning station through the team, and closing
// the window gives the PC back.
func TestConnectOnAnotherStationsLine(t *testing.T) {
	st, _, s, _ := pagesTestComputers(t)
	if _, err := st.CreateProfile(t.Context(), "Bea Tech", "bea@example.org"); err != nil {
		t.Fatal(err)
	}
	lines := []pairing.TeamSession{
		{Station: "stA", StationName: "Desk A", Session: "7", PreparedBy: "Anna Tech", State: "active", Computer: "ANNA-PC", PCOnline: true, StationOnline: true},
		{Station: "stC", Session: "3", PreparedBy: "Carl Tech", State: "active", PCOnline: false, StationOnline: true},
	}
	s.team.sessions = func() []pairing.TeamSession { return lines }
	var asked []string
	s.team.requestEnd = func(_ context.Context, owner, session, by, tech string) (bool, error) {
		asked = append(asked, owner+"/"+session+"/"+by+"/"+tech)
		return true, nil
	}
	s.team.technician = func() string { return "Bea Tech" }
	ys := teamTestChannel(t, coretest.Password)
	var takes int
	released := make(chan struct{}, 4)
	s.offerTeamConnect(func(_ context.Context, owner string, session int64) (remote.StreamOpener, func(), error) {
		takes++
		if owner != "stA" || session != 7 {
			t.Errorf("took over %s/%d, want stA/7", owner, session)
		}
		if takes == 1 {
			return nil, nil, pairing.ErrTakeoverWait
		}
		return ys, func() { released <- struct{}{} }, nil
	})
	watch := watchWork(&s.work)
	s.team.refresh()
	g := s.team
	connects := slices.DeleteFunc(findAll[*widget.Button](g.rows), func(b *widget.Button) bool { return b.Text != "Connect" })
	if len(connects) != 2 || connects[0].Disabled() || !connects[1].Disabled() {
		t.Fatalf("%d Connect buttons on the team lines; want 2, the second (its station online, its PC not) disabled", len(connects))
	}
	if !strings.Contains(g.note.Text, "can be connected to") {
		t.Errorf("the group's note says %q", g.note.Text)
	}

	test.Tap(connects[0])
	dlg, field := remoteTestDialog(t, s)
	if !slices.ContainsFunc(findAll[*widget.Label](dlg), func(l *widget.Label) bool { return l.Text == "Connect to ANNA-PC at station Desk A" }) {
		t.Error("the dialog's title does not name the PC and its station")
	}
	labels := func() string {
		var out []string
		for _, l := range findAll[*widget.Label](dlg) {
			out = append(out, l.Text)
		}
		return strings.Join(out, "\n")
	}
	if !strings.Contains(labels(), "Station Desk A's PC (session prepared by Anna Tech): the hub hands it to this station; this can take up to 30 s.") {
		t.Fatalf("the dialog says %q", labels())
	}
	try := func(password string) {
		t.Helper()
		test.Type(field, password)
		watch.during(t, jobTeamConnect, func() { test.Tap(findButton(t, dlg, "Connect")) })
	}
	try("not the password")
	if !strings.Contains(labels(), "did not come to this station in time") || s.win.Canvas().Overlays().Top() != dlg {
		t.Fatalf("a failed takeover: the dialog says %q", labels())
	}
	try("not the password")
	if !strings.Contains(labels(), "4 tries left") {
		t.Fatalf("a wrong password: the dialog says %q", labels())
	}
	try(coretest.Password)
	watch.wait(t, jobSystem)
	if takes != 2 || len(released) != 0 {
		t.Fatalf("%d takeovers, %d releases; want the PC taken over once and kept while the window is open", takes, len(released))
	}
	if s.win.Canvas().Overlays().Top() != nil {
		t.Fatal("the dialog stayed open after signing in")
	}
	k := s.team.taker
	h := k.held[core.TeamTarget{Owner: "stA", OwnerName: "Desk A", Session: 7, Computer: "ANNA-PC", PreparedBy: "Anna Tech"}]
	if h == nil || h.window == nil {
		t.Fatal("no remote window for the PC of station stA")
	}
	r := h.window
	if got := r.fields["Computer name"].Text; got != "DESKTOP-7QK2" {
		t.Errorf("the remote window's System tab shows %q", got)
	}
	// A second Connect on the line goes to the open window.
	test.Tap(connects[0])
	if s.win.Canvas().Overlays().Top() != nil || !strings.Contains(g.status.Text, "already connected") {
		t.Fatalf("a second Connect: dialog %v, the page says %q", s.win.Canvas().Overlays().Top(), g.status.Text)
	}

	test.Tap(r.endBtn)
	test.Tap(findButton(t, r.win.Canvas().Overlays().Top(), "End session"))
	if len(asked) != 1 || asked[0] != "stA/7/Anna Tech/Bea Tech" {
		t.Fatalf("End session now in the window asked %v", asked)
	}
	coretest.Receive(t, released, "the PC given back when the window closed")
	if len(k.held) != 0 {
		t.Fatalf("after the window closed %d PCs are still held", len(k.held))
	}
	if !strings.Contains(g.status.Text, "Station Desk A was asked to end the session") {
		t.Errorf("the page says %q", g.status.Text)
	}

	// Cancel after a takeover gives the PC back too.
	test.Tap(connects[0])
	dlg, field = remoteTestDialog(t, s)
	try("not the password")
	test.Tap(findButton(t, dlg, "Cancel"))
	coretest.Receive(t, released, "the PC given back at Cancel")
	if len(k.held) != 0 {
		t.Fatalf("after Cancel %d PCs are still held", len(k.held))
	}

	// Cancel while a try runs: its refusal shows under the list and the PC
	// it brought here is given back.
	test.Tap(connects[0])
	dlg, field = remoteTestDialog(t, s)
	test.Type(field, "not the password")
	watch.during(t, jobTeamConnect, func() {
		test.Tap(findButton(t, dlg, "Connect"))
		test.Tap(findButton(t, dlg, "Cancel"))
	})
	coretest.Receive(t, released, "the PC given back after a refusal that came after Cancel")
	if len(k.held) != 0 || !strings.Contains(g.status.Text, "3 tries left") {
		t.Fatalf("a refusal after Cancel: %d PCs held, the page says %q", len(k.held), g.status.Text)
	}
}
