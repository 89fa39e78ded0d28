package cli

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	mustRun(t, dir, "", "hub", "leave")
	if _, ok, _ := st.Hub(context.Background()); ok {
		t.Error("the hub is still configured after leaving")
	}
	if _, ok, _ := st.TeamMembership(context.Background()); ok {
		t.Error("the team is still stored after leaving the hub")
	}
	if shown := decode[sessionJSON](t, mustRun(t, dir, "", "sessions", "show", "1", "--json")); strings.HasPrefix(shown.Link, h.URL) {
		t.Errorf("after leaving, the link %q still goes through the hub", shown.Link)
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
