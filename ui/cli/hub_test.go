package cli

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/hub/hubtest"
)

// TestCLIHub: `hub join` with the hub admin's one-time code against a real
// hub, `hub status`, links through the hub, and `hub leave`. The hub
// credential is never printed nor anywhere in the data folder in plain
// text; a code works once.
func TestCLIHub(t *testing.T) {
	dir := cliStation(t)
	h := hubtest.Start(t, nil)
	saved := hubClient
	hubClient = func() *http.Client { return h.Client }
	t.Cleanup(func() { hubClient = saved })

	if out := mustRun(t, dir, "", "hub", "status"); !strings.Contains(out, "No hub") {
		t.Errorf("status before joining: %q", out)
	}
	if r := runIn(t, dir, "", "hub", "leave"); r.code != ExitRefused || !strings.Contains(r.errOut, "has not joined a hub") {
		t.Errorf("leave before joining: %+v", r)
	}
	if r := runIn(t, dir, "", "hub", "join", "http://"+h.Addr, h.Code()); r.code != ExitRefused || !strings.Contains(r.errOut, "https address") {
		t.Errorf("join over http: %+v", r)
	}
	if r := runIn(t, dir, "", "hub", "join", h.URL, "not-a-code"); r.code != ExitRefused || !strings.Contains(r.errOut, "refused to enrol") {
		t.Errorf("join with a wrong code: %+v", r)
	}
	code := h.Code()
	joined := mustRun(t, dir, "", "hub", "join", h.URL, code)
	if r := runIn(t, dir, "", "hub", "join", h.URL, code); r.code != ExitRefused {
		t.Errorf("the same code worked twice: %+v", r)
	}

	st := coretest.OpenWith(t, dir, coretest.NewClock(coretest.Start), nil)
	acc, ok, err := st.HubAccess(context.Background())
	if err != nil || !ok || acc.URL != h.URL || !strings.Contains(joined, acc.StationID) {
		t.Fatalf("hub access %+v %v %v after joining (%q)", acc, ok, err, joined)
	}
	secret := acc.Credential[strings.Index(acc.Credential, ".")+1:]
	if len(secret) < 20 || strings.Contains(joined, secret) {
		t.Errorf("the join printed the credential, or it is too short: %q", joined)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the hub credential in plain text", f)
		}
	}
	status := mustRun(t, dir, "", "hub", "status")
	if !strings.Contains(status, h.URL) || !strings.Contains(status, acc.StationID) || strings.Contains(status, secret) {
		t.Errorf("status: %q", status)
	}
	if !strings.Contains(status, "team: none known") {
		t.Errorf("status before a team was learned: %q", status)
	}
	// The team as a running station stores it after asking the hub.
	if err := st.SaveTeamMembership(context.Background(), core.TeamMembership{HubStation: acc.StationID, Team: "acme", Seed: []byte("seed"), Seats: 5, Stations: 2}); err != nil {
		t.Fatal(err)
	}
	if status := mustRun(t, dir, "", "hub", "status"); !strings.Contains(status, "team: acme (last seen: 5 seats, 2 stations online)") {
		t.Errorf("status with a team: %q", status)
	}

	prep := decode[preparedJSON](t, mustRun(t, dir, coretest.Password+"\n", prepareArgs("1", "user@example.com", "--password-stdin", "--json")...))
	if want := h.URL + "/st/" + acc.StationID + "/join/"; !strings.HasPrefix(prep.Link, want) {
		t.Errorf("link %q through the hub; want it to start %s", prep.Link, want)
	}
	// Its invitation links to the hub: leaving would strand it, so plain
	// `hub leave` is refused naming the user; --end-sessions cancels it.
	if r := runIn(t, dir, "", "hub", "leave"); r.code != ExitRefused || !strings.Contains(r.errOut, "1 invitation sent through the hub") ||
		!strings.Contains(r.errOut, "to user@example.com (session 1)") || !strings.Contains(r.errOut, "Its link leads to the hub") {
		t.Fatalf("leaving with an invitation through the hub: %+v", r)
	}
	if _, ok, _ := st.Hub(context.Background()); !ok {
		t.Fatal("the refused leave left the hub")
	}
	if out := mustRun(t, dir, "", "hub", "leave", "--end-sessions"); !strings.Contains(out, "Cancelling 1 invitation(s) whose link leads to the hub: to user@example.com (session 1)") ||
		!strings.Contains(out, "Cancelled the invitations to user@example.com (session 1)") || !strings.Contains(out, "Left the hub") {
		t.Errorf("hub leave --end-sessions with an invitation through the hub says:\n%s", out)
	}
	if _, ok, _ := st.Hub(context.Background()); ok {
		t.Error("the hub is still configured after leaving")
	}
	if _, ok, _ := st.TeamMembership(context.Background()); ok {
		t.Error("the team is still stored after leaving the hub")
	}
	if shown := decode[sessionJSON](t, mustRun(t, dir, "", "sessions", "show", "1", "--json")); shown.State != core.StateCancelled {
		t.Errorf("after hub leave --end-sessions, the invitation through the hub is %s", shown.State)
	}
	again := decode[preparedJSON](t, mustRun(t, dir, coretest.Password+"\n", prepareArgs("1", "user@example.com", "--password-stdin", "--json")...))
	if strings.HasPrefix(again.Link, h.URL) {
		t.Errorf("after leaving, a new link %q still goes through the hub", again.Link)
	}
	if !strings.Contains(mustRun(t, dir, "", "hub", "status"), "No hub") {
		t.Error("status after leaving still names a hub")
	}
	rows, err := st.Audit(context.Background(), core.AuditFilter{Search: "hub"})
	if err != nil || len(rows) < 2 {
		t.Errorf("audit rows about the hub: %d, %v; want joined and left", len(rows), err)
	}
	for _, r := range rows {
		if strings.Contains(r.Detail, secret) {
			t.Error("the audit log holds the credential")
		}
	}
}

// TestCLIHubLeaveWithSessions: while sessions paired through the hub are
// open, `hub leave` is refused with a sentence naming how many, their PCs
// and users, and what to do; the hub stays joined. `hub leave
// --end-sessions` ends them, waits for the PCs that were online to send
// their cleanup receipt (the running station's part, played here by
// core's own receipt call), says which PC cleaned up and which could not
// be told (one offline, one online that never answered within the wait),
// then leaves. A session paired directly holds nothing back and stays.
func TestCLIHubLeaveWithSessions(t *testing.T) {
	dir := cliStation(t)
	h := hubtest.Start(t, nil)
	saved, savedWait := hubClient, hubEndWait
	hubClient = func() *http.Client { return h.Client }
	hubEndWait = 3 * time.Second // the silent PC is waited for this long
	t.Cleanup(func() { hubClient, hubEndWait = saved, savedWait })
	mustRun(t, dir, "", "hub", "join", h.URL, h.Code())

	ctx := context.Background()
	clock := coretest.NewClock(time.Now()) // the CLI's sessions run on the real clock
	st := coretest.OpenWith(t, dir, clock, nil)
	mustRun(t, dir, "", "profiles", "add", "Cleo Tech", "cleo.tech@example.com")
	mustRun(t, dir, "", "profiles", "add", "Dave Tech", "dave.tech@example.com")
	profile := 0 // one active session per profile
	pair := func(host, user, via string) core.Paired {
		t.Helper()
		profile++
		prep := decode[preparedJSON](t, mustRun(t, dir, "", prepareArgs(strconv.Itoa(profile), user+"@example.com", "--generate-password", "--json")...))
		facts := coretest.WindowsPC
		facts.Hostname, facts.WindowsUser = host, user
		p, err := st.Pair(ctx, core.PairRequest{Token: prep.Link[strings.LastIndex(prep.Link, "/")+1:], Code: prep.SecurityCode,
			RemoteAddr: "192.0.2.7:1", Facts: facts, ViaHub: via})
		if err != nil {
			t.Fatalf("pairing %s: %v", host, err)
		}
		return p
	}
	offline := pair("PC-OFFLINE", "olga", h.URL)
	clock.Advance(5 * time.Minute) // no heartbeat from PC-OFFLINE: it goes offline
	st.Tick(ctx)
	if s, _ := st.Session(ctx, offline.Session.ID); s.Computer.Online {
		t.Fatal("PC-OFFLINE is still online")
	}
	answers := pair("PC-ANSWERS", "ann", h.URL)
	silent := pair("PC-SILENT", "sam", h.URL)
	direct := pair("PC-DIRECT", "dan", "")

	if shown := mustRun(t, dir, "", "sessions", "show", strconv.FormatInt(answers.Session.ID, 10)); !strings.Contains(shown, "via hub "+core.HubHost(h.URL)) {
		t.Errorf("sessions show of a PC paired through the hub:\n%s", shown)
	}
	if shown := decode[sessionJSON](t, mustRun(t, dir, "", "sessions", "show", strconv.FormatInt(direct.Session.ID, 10), "--json")); shown.ViaHub != "" {
		t.Errorf("sessions show --json of a PC paired directly says via_hub %q", shown.ViaHub)
	}
	r := runIn(t, dir, "", "hub", "leave")
	if r.code != ExitRefused || !strings.Contains(r.errOut, "3 open sessions come through the hub "+core.HubHost(h.URL)) ||
		!strings.Contains(r.errOut, "PC-ANSWERS (user ann, session") || !strings.Contains(r.errOut, "PC-OFFLINE (user olga") ||
		!strings.Contains(r.errOut, "End them first, or use `hub leave --end-sessions`") || strings.Contains(r.errOut, "PC-DIRECT") {
		t.Fatalf("leaving with sessions through the hub open: exit %d, %q", r.code, r.errOut)
	}
	if _, ok, _ := st.Hub(ctx); !ok {
		t.Fatal("the refused leave left the hub")
	}

	// The PC online through the hub picks the end up and sends its receipt.
	go func() {
		for {
			if s, err := st.Session(ctx, answers.Session.ID); err != nil || s.State == core.StateEnded {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		st.CleanupReceipt(ctx, answers.AgentKey, "account AdHocRemoteUser deleted")
	}()
	out := mustRun(t, dir, "", "hub", "leave", "--end-sessions")
	for _, want := range []string{"Ending 3 session(s) paired through the hub", "Cleaned up (support account and app removed): PC-ANSWERS (user ann",
		"Not confirmed (offline, or no answer in time): PC-OFFLINE (user olga, session " + strconv.FormatInt(offline.Session.ID, 10) + "), PC-SILENT (user sam",
		"Left the hub"} {
		if !strings.Contains(out, want) {
			t.Errorf("hub leave --end-sessions says:\n%s\nwant %q", out, want)
		}
	}
	if _, ok, _ := st.Hub(ctx); ok {
		t.Error("still joined after hub leave --end-sessions")
	}
	for _, p := range []core.Paired{offline, answers, silent} {
		if s, _ := st.Session(ctx, p.Session.ID); s.State != core.StateEnded || s.CloseReason != "ended by the technician to leave the hub" {
			t.Errorf("session %d after leaving: %s (%s)", s.ID, s.State, s.CloseReason)
		}
	}
	if s, _ := st.Session(ctx, direct.Session.ID); s.State != core.StateActive {
		t.Errorf("the session paired directly is %s after leaving the hub", s.State)
	}
}
