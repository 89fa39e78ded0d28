package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/pairing"
	"adhocstation/hub/hubtest"
)

// TestHubSettingsAndComputers: Settings' "Reach PCs through a hub" says
// direct mode, then after a join (by code, against a real hub) the host,
// the station id and "Connected"; the hub stopping shows the last error;
// its return shows "Connected" again. A PC holding its live channel
// through the hub is "online (hub)" on the Computers page.
func TestHubSettingsAndComputers(t *testing.T) {
	st, clock, computers, sub := pagesTestComputers(t)
	set := newSettingsScreen(st, test.NewTempWindow(t, nil))
	label := set.showHub(nil)
	if !strings.Contains(label.Text, "Not joined") || label.Importance != widget.MediumImportance {
		t.Fatalf("before joining, Settings says %q", label.Text)
	}

	h := hubtest.Start(t, clock.Now)
	cfg, err := st.JoinHub(context.Background(), h.Client, h.URL, h.Code())
	if err != nil {
		t.Fatal(err)
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
	paired := pairPC(t, st, prep)
	rel, ok, err := st.RelayToken(context.Background(), paired.Session.ID, paired.Session.ExpiresAt)
	if err != nil || !ok {
		t.Fatalf("relay token: %v %v", ok, err)
	}
	c, err := support.NewClientVia("https://station.invalid:8443", srv.Pins(), &support.Hub{URL: rel.URL, Token: rel.Token, HTTPClient: h.Client})
	if err != nil {
		t.Fatal(err)
	}
	ys, _, err := c.OpenChannel(t.Context(), paired.AgentKey, support.ChannelTiming{})
	if err != nil || ys == nil {
		t.Fatalf("live channel through the hub: %v", err)
	}
	t.Cleanup(func() { ys.Close() })
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
}
