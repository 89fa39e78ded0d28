package ui

import (
	"adhocstation/core/hublink"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/pairing"
	"adhocstation/hub/hubtest"
)

// TestHubSettingsAndComputers: Settings' "Reach PCs through a hub" says
// direct mode; joining from it with a wrong code says the hub refused,
// with the right one (against a real hub) it shows the host, the station
// id and "Connected"; the hub stopping shows the last error; its return
// "Connected" again. A PC holding its live channel through the hub is
// "via hub" on the Computers page. Leaving asks first, then says direct.
func TestHubSettingsAndComputers(t *testing.T) {
	st, clock, computers, sub := pagesTestComputers(t)
	set := newSettingsScreen(st, test.NewTempWindow(t, nil))
	set.win.SetContent(set.content())
	label := set.showHub(nil)
	if !strings.Contains(label.Text, "Not joined") || label.Importance != widget.MediumImportance || !set.hubLeave.Disabled() || set.hubLeave.Visible() {
		t.Fatalf("before joining, Settings says %q (leave enabled: %v, shown: %v)", label.Text, !set.hubLeave.Disabled(), set.hubLeave.Visible())
	}

	// Joining from Settings: a wrong code is refused and said; the right one joins.
	h := hubtest.Start(t, clock.Now)
	set.hubClient = h.Client
	work := watchWork(&set.work)
	test.Type(set.hubURL, h.URL)
	test.Type(set.hubCode, "not-the-code")
	work.during(t, jobJoinHub, func() { test.Tap(set.hubJoin) })
	if !strings.Contains(set.hubOut.Text, "refused to enrol") || set.hubOut.Importance != widget.DangerImportance {
		t.Fatalf("a wrong code: Settings says %q", set.hubOut.Text)
	}
	set.hubCode.SetText(h.Code())
	work.during(t, jobJoinHub, func() { test.Tap(set.hubJoin) })
	cfg, joined, err := st.Hub(context.Background())
	if err != nil || !joined || !strings.Contains(set.hubOut.Text, cfg.StationID) || set.hubCode.Text != "" || set.hubLeave.Disabled() || !set.hubLeave.Visible() {
		t.Fatalf("after joining from Settings: %+v %v %v, says %q, code field %q", cfg, joined, err, set.hubOut.Text, set.hubCode.Text)
	}
	states := make(chan pairing.HubState, 64)
	srv, err := pairing.Start(t.Context(), st, pairing.Options{ListenAddr: "127.0.0.1:0", AgentExe: []byte("MZ"),
		HubClient: h.Client, OnHubState: func(s pairing.HubState) { states <- s }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	set.hubState = srv.HubState
	computers.throughHub = srv.ThroughHub
	waitHub := func(up bool) {
		t.Helper()
		for coretest.Receive(t, states, "the hub link to change").Connected != up {
		}
		set.onEvent(core.Event{Kind: core.EventSettings}) // as the window delivers the join's event
		set.onTick(clock.Now())
	}
	host := strings.TrimPrefix(h.URL, "https://")
	waitHub(true)
	if !strings.Contains(label.Text, host) || !strings.Contains(label.Text, cfg.StationID) ||
		!strings.Contains(label.Text, "Connected") || label.Importance != widget.SuccessImportance {
		t.Fatalf("joined and connected, Settings says %q (%v)", label.Text, label.Importance)
	}

	h.Stop()
	waitHub(false)
	if !strings.Contains(label.Text, "Not connected") || !strings.Contains(label.Text, "keeps trying") ||
		label.Importance != widget.WarningImportance {
		t.Fatalf("with the hub down, Settings says %q (%v)", label.Text, label.Importance)
	}
	h.Restart()
	waitHub(true)
	if !strings.Contains(label.Text, "Connected") {
		t.Fatalf("with the hub back, Settings says %q", label.Text)
	}

	// A PC through the hub, as the app dials it: the pinned TLS inside the relay.
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	channelThroughHub(t, st, srv, h, prep)
	// Paired PCs count as online already; the channel's hub mark comes with it.
	deliverUntil(t, sub, computers.onEvent, core.EventPaired)
	deadline := time.Now().Add(coretest.WaitLimit)
	for !srv.ThroughHub(prep.Session.ID) {
		if time.Now().After(deadline) {
			t.Fatal("the station never marked the PC's channel as through the hub")
		}
		time.Sleep(5 * time.Millisecond)
	}
	computers.onTick(clock.Now())
	pagesTestWant(t, pagesTestRow(t, computers, prep.Session.ID), colState, stateOnlineHub)

	// Leaving from Settings asks first; "No" keeps the hub.
	for _, answer := range []string{"No", "Yes"} {
		test.Tap(set.hubLeave)
		top := set.win.Canvas().Overlays().Top()
		if top == nil {
			t.Fatal("leaving the hub did not ask first")
		}
		test.Tap(findButton(t, top, answer))
		if _, joined, _ := st.Hub(context.Background()); joined != (answer == "No") {
			t.Fatalf("after %q the hub is joined: %v", answer, joined)
		}
	}
	if !strings.Contains(label.Text, "Not joined") || !set.hubLeave.Disabled() || set.hubLeave.Visible() {
		t.Errorf("after leaving, Settings says %q", label.Text)
	}
}

// TestComputersPairedRoute: the Computers page says how each PC paired —
// via which hub, or directly — from the session, also once the PCs are
// offline and no live channel says anything.
func TestComputersPairedRoute(t *testing.T) {
	st, clock, s, sub := pagesTestComputers(t)
	_, viaHub := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	if _, err := st.Pair(t.Context(), core.PairRequest{Token: viaHub.Session.Token, Code: viaHub.Code,
		RemoteAddr: "192.0.2.10:5000", Facts: coretest.WindowsPC, ViaHub: "https://hub.example.org"}); err != nil {
		t.Fatal(err)
	}
	deliverUntil(t, sub, s.onEvent, core.EventPaired)
	_, direct := coretest.MustPrepare(t, st, "Ann", "ann@example.com")
	pairPC(t, st, direct)
	deliverUntil(t, sub, s.onEvent, core.EventPaired)
	clock.Advance(5 * time.Minute) // no heartbeats: both PCs go offline
	st.Tick(t.Context())
	deliverUntil(t, sub, s.onEvent, core.EventComputerOffline)
	deliverUntil(t, sub, s.onEvent, core.EventComputerOffline)
	for id, want := range map[int64]string{viaHub.Session.ID: "Paired via hub hub.example.org.", direct.Session.ID: "Paired directly"} {
		s.onTap(core.Session{ID: id})
		sess, _ := s.selectedSession()
		if sess.Computer == nil || sess.Computer.Online || !strings.Contains(s.details.Text, want) {
			t.Errorf("session %d (online: %v): the details say %q; want %q", id, sess.Computer != nil && sess.Computer.Online, s.details.Text, want)
		}
	}
}

// TestSettingsLeaveHubEndsSessions: with a session paired through the hub
// open and an invitation through it waiting, Settings' Leave hub asks to
// end and cancel them first, naming the PC and the invitation's user;
// "Keep it" keeps the hub and the session; "End them and leave" cancels
// the invitation, ends the session, waits for the PC's cleanup receipt
// (the running station's part, played by core's receipt call), says the
// PC cleaned up and the invitation was cancelled, and leaves.
func TestSettingsLeaveHubEndsSessions(t *testing.T) {
	st, clock := coretest.Open(t)
	h := hubtest.Start(t, clock.Now)
	if _, err := st.JoinHub(t.Context(), h.Client, h.URL, h.Code()); err != nil {
		t.Fatal(err)
	}
	set := newSettingsScreen(st, test.NewTempWindow(t, nil))
	set.win.SetContent(set.content())
	set.showHub(nil)
	set.hubLeaveWait = coretest.WaitLimit
	work := watchWork(&set.work)
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	paired, err := st.Pair(t.Context(), core.PairRequest{Token: prep.Session.Token, Code: prep.Code,
		RemoteAddr: "192.0.2.10:5000", Facts: coretest.WindowsPC, ViaHub: h.URL})
	if err != nil {
		t.Fatal(err)
	}
	invited := coretest.PrepareFor(t, st, "Ivy Tech", "ivy@example.com")

	test.Tap(set.hubLeave)
	top := set.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("leaving the hub did not ask first")
	}
	if text := dialogText(top); !strings.Contains(text, "1 open session(s) came through the hub "+core.HubHost(h.URL)) ||
		!strings.Contains(text, coretest.WindowsPC.Hostname+" (user "+coretest.WindowsPC.WindowsUser) ||
		!strings.Contains(text, "1 invitation(s) sent through the hub "+core.HubHost(h.URL)+" still wait: to ivy@example.com") ||
		!strings.Contains(text, "the invitations are cancelled") {
		t.Fatalf("the question says %q", text)
	}
	test.Tap(findButton(t, top, "Keep it"))
	if _, joined, _ := st.Hub(t.Context()); !joined {
		t.Fatal("Keep it left the hub")
	}
	if s, _ := st.Session(t.Context(), prep.Session.ID); s.State != core.StateActive {
		t.Fatalf("Keep it: the session is %s", s.State)
	}

	go func() { // the PC picks the end up through the hub and sends its receipt
		for {
			if s, err := st.Session(t.Context(), prep.Session.ID); err != nil || s.State == core.StateEnded {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		st.CleanupReceipt(t.Context(), paired.AgentKey, "account AdHocRemoteUser deleted")
	}()
	test.Tap(set.hubLeave)
	work.during(t, jobLeaveHub, func() { test.Tap(findButton(t, set.win.Canvas().Overlays().Top(), "End them and leave")) })
	if _, joined, _ := st.Hub(t.Context()); joined {
		t.Error("still joined after End them and leave")
	}
	if !strings.Contains(set.hubOut.Text, "Left the hub") || !strings.Contains(set.hubOut.Text, "Cleaned up: "+coretest.WindowsPC.Hostname) ||
		!strings.Contains(set.hubOut.Text, "Cancelled the invitations to ivy@example.com") {
		t.Errorf("after leaving, Settings says %q", set.hubOut.Text)
	}
	if s, _ := st.Session(t.Context(), invited.Session.ID); s.State != core.StateCancelled {
		t.Errorf("the invitation through the hub is %s after leaving", s.State)
	}
}

// TestSettingsLeaveHubCancelsInvitations: with only an invitation whose
// link leads to the hub waiting, Settings' Leave hub asks to cancel it
// first, naming its user and where its link leads, and not the invitation
// sent before joining (its link is direct); "Cancel them and leave"
// cancels it, leaves, and says so; the direct invitation stays.
func TestSettingsLeaveHubCancelsInvitations(t *testing.T) {
	st, clock := coretest.Open(t)
	direct := coretest.PrepareFor(t, st, "Dan Tech", "dan@example.com")
	h := hubtest.Start(t, clock.Now)
	if _, err := st.JoinHub(t.Context(), h.Client, h.URL, h.Code()); err != nil {
		t.Fatal(err)
	}
	set := newSettingsScreen(st, test.NewTempWindow(t, nil))
	set.win.SetContent(set.content())
	set.showHub(nil)
	work := watchWork(&set.work)
	invited := coretest.PrepareFor(t, st, "Ivy Tech", "ivy@example.com")

	test.Tap(set.hubLeave)
	top := set.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("leaving the hub did not ask first")
	}
	text := dialogText(top)
	for _, want := range []string{"Cancel the invitations and leave the hub?",
		"1 invitation(s) sent through the hub " + core.HubHost(h.URL) + " still wait: to ivy@example.com (session " + strconv.FormatInt(invited.Session.ID, 10) + ")",
		"Their links lead to the hub", "the technician's station is offline", "Then send new invitations, which will reach this station directly."} {
		if !strings.Contains(text, want) {
			t.Fatalf("the question says %q\nwant %q", text, want)
		}
	}
	if strings.Contains(text, "dan@example.com") || strings.Contains(text, "open session") {
		t.Errorf("the question names more than the hub's invitation: %q", text)
	}
	work.during(t, jobLeaveHub, func() { test.Tap(findButton(t, top, "Cancel them and leave")) })
	if _, joined, _ := st.Hub(t.Context()); joined {
		t.Error("still joined after Cancel them and leave")
	}
	if !strings.Contains(set.hubOut.Text, "Left the hub") || !strings.Contains(set.hubOut.Text, "Cancelled the invitations to ivy@example.com") {
		t.Errorf("after leaving, Settings says %q", set.hubOut.Text)
	}
	if s, _ := st.Session(t.Context(), invited.Session.ID); s.State != core.StateCancelled {
		t.Errorf("the invitation through the hub is %s after leaving", s.State)
	}
	if s, _ := st.Session(t.Context(), direct.Session.ID); s.State != core.StatePrepared {
		t.Errorf("the direct invitation is %s after leaving", s.State)
	}
}

// dialogText is every label's text in a dialog, joined.
func dialogText(o fyne.CanvasObject) string {
	var texts []string
	for _, l := range findAll[*widget.Label](o) {
		texts = append(texts, l.Text)
	}
	return strings.Join(texts, " ")
}

// TestHubPlainLegFallbackSaid: behind a firewall that passes only TLS, the
// station's plain data leg for a PC's relay is cut; the relay still works
// (through the hub's TLS WebSocket) and Settings says, in words, that
// transfers through the hub are slower until when and why, without a
// warning colour (nothing is broken and nothing needs doing).
func TestHubPlainLegFallbackSaid(t *testing.T) {
	st, clock, _, _ := pagesTestComputers(t)
	set := newSettingsScreen(st, test.NewTempWindow(t, nil))
	set.win.SetContent(set.content())
	label := set.showHub(nil)
	h := hubtest.Start(t, clock.Now)
	var fw hubtest.Firewall
	walled := fw.Client(h.Client)
	t.Cleanup(walled.CloseIdleConnections)
	if _, err := st.JoinHub(t.Context(), walled, h.URL, h.Code()); err != nil {
		t.Fatal(err)
	}
	states := make(chan pairing.HubState, 64)
	srv, err := pairing.Start(t.Context(), st, pairing.Options{ListenAddr: "127.0.0.1:0", AgentExe: []byte("MZ"),
		HubClient: walled, OnHubState: func(s pairing.HubState) { states <- s }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	set.hubState = srv.HubState
	for !coretest.Receive(t, states, "the hub link to come up").Connected {
	}
	set.onEvent(core.Event{Kind: core.EventSettings})
	set.onTick(clock.Now())
	if !strings.HasSuffix(label.Text, "Connected.") {
		t.Fatalf("before any relay, Settings says %q", label.Text)
	}

	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	channelThroughHub(t, st, srv, h, prep) // its station leg cut by the firewall
	if fw.Cut() != 1 {
		t.Fatalf("the firewall cut %d connections, want the one plain data leg", fw.Cut())
	}
	var got pairing.HubState
	for got = srv.HubState(); got.PlainOffUntil.IsZero(); got = coretest.Receive(t, states, "the plain leg's failure") {
	}
	if want := clock.Now().Add(hublink.PlainRetry); !got.PlainOffUntil.Equal(want) {
		t.Errorf("relays use the WebSocket until %v, want %v", got.PlainOffUntil, want)
	}
	set.onTick(clock.Now())
	until := got.PlainOffUntil.Local().Format("15:04")
	if !strings.Contains(label.Text, "slower") || !strings.Contains(label.Text, "Until "+until) ||
		!strings.Contains(label.Text, "firewall") || label.Importance != widget.SuccessImportance {
		t.Fatalf("after the cut leg, Settings says %q (%v)", label.Text, label.Importance)
	}
}

// channelThroughHub pairs prep's PC and opens its live channel through the
// hub as the app dials it: the pinned TLS inside the relay.
func channelThroughHub(t *testing.T, st *core.Station, srv *pairing.Server, h *hubtest.Hub, prep core.Prepared) {
	t.Helper()
	paired := pairPC(t, st, prep)
	rel, ok, err := st.RelayToken(t.Context(), paired.Session.ID, paired.Session.ExpiresAt)
	if err != nil || !ok {
		t.Fatalf("relay token: %v %v", ok, err)
	}
	c, err := support.NewClientVia("https://station.invalid:8443", srv.Pins(), &support.Hub{URL: rel.URL, Token: rel.Token, HTTPClient: h.Client})
	if err != nil {
		t.Fatal(err)
	}
	ys, _, err := c.OpenChannel(t.Context(), paired.AgentKey, support.ChannelTiming{})
	if err != nil || ys == nil {
		t.Fatalf("the live channel through the hub: %v", err)
	}
	t.Cleanup(func() { ys.Close() })
}
