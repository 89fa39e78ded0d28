package pairing

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/hublink"
	"adhocstation/hub/hubtest"
)

// TestHubJoinLeaveWithoutRestart: a running service in direct mode has no
// hub link; joining a hub starts one (the hub counts the station online)
// and the same pinned TLS and handlers answer through the hub's relay;
// leaving stops it, all without a restart. The direct listener serves
// throughout.
func TestHubJoinLeaveWithoutRestart(t *testing.T) {
	st, clock := coretest.Open(t)
	h := hubtest.Start(t, clock.Now)
	states := make(chan HubState, 64)
	e := startEnv(t, st, clock, Options{HubClient: h.Client, OnHubState: func(s HubState) { states <- s }})
	if s := e.srv.HubState(); s.Configured || s.Connected {
		t.Fatalf("direct mode: hub state %+v", s)
	}
	ctx := context.Background()
	// An invitation sent before joining: its link is direct, so it does
	// not hold the leave back, and its join page is served after it.
	_, direct := coretest.MustPrepare(t, st, "Bo", "bo@example.com")
	cfg, err := st.JoinHub(ctx, h.Client, h.URL, h.Code())
	if err != nil {
		t.Fatal(err)
	}
	for s := coretest.Receive(t, states, "the link to come up"); !s.Connected; s = coretest.Receive(t, states, "the link to come up") {
	}
	if s := e.srv.HubState(); !s.Configured || !s.Connected || s.StationID != cfg.StationID || s.URL != h.URL || !h.Srv.Online(cfg.StationID) {
		t.Fatalf("after joining: state %+v, hub online %v", s, h.Srv.Online(cfg.StationID))
	}

	// An app's request through the relay, pinned to the station's key.
	_, prep := coretest.MustPrepare(t, st, "Ana", "ana@example.com")
	rel, ok, err := st.RelayToken(ctx, prep.Session.ID, prep.Session.InviteExpiresAt.Add(core.SessionLength))
	if err != nil || !ok {
		t.Fatalf("relay token: %v %v", ok, err)
	}
	raw, err := hublink.DialRelay(ctx, h.Client, rel.URL, rel.Token)
	if err != nil {
		t.Fatal(err)
	}
	pinned := pinnedClient(e.srv.Pins(), nil).Transport.(*http.Transport).TLSClientConfig.Clone()
	pinned.NextProtos = []string{"http/1.1"}
	tc := tls.Client(hublink.Deadlines(raw), pinned)
	defer tc.Close()
	if _, err := io.WriteString(tc, "GET /join/"+prep.Session.Token+" HTTP/1.1\r\nHost: station\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	page, rerr := io.ReadAll(tc)
	if !strings.HasPrefix(string(page), "HTTP/1.1 200") || !strings.Contains(string(page), prep.Session.Token+"/download") {
		// The read's error says where an empty answer was lost (seen twice
		// under load, cause not found yet).
		t.Fatalf("the join page through the relay: %.300q (read: %v)", page, rerr)
	}

	// Ana's invitation links to the hub: leaving would strand it.
	if err := st.Cancel(ctx, prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.LeaveHub(ctx); err != nil {
		t.Fatal(err)
	}
	for s := coretest.Receive(t, states, "the link to stop"); s.Configured; s = coretest.Receive(t, states, "the link to stop") {
	}
	if s := e.srv.HubState(); s.Configured || s.Connected {
		t.Fatalf("after leaving: state %+v", s)
	}
	if r := e.do("GET", "/join/"+direct.Session.Token, "", nil); r.status != http.StatusOK {
		t.Fatalf("the direct listener answers %d after leaving the hub", r.status)
	}
}
