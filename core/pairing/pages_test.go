package pairing

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

func TestJoinPage(t *testing.T) {
	e := newEnv(t)
	_, prep := coretest.MustPrepare(t, e.st, "Ana <Técnica>", "ana@example.com")
	r := e.do("GET", "/join/"+prep.Session.Token, "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("join page: %d %s", r.status, r.body)
	}
	page := string(r.body)
	for _, want := range []string{
		"Ana &lt;Técnica&gt;", // who asks, escaped
		"ana@example.com",
		"administrator",
		"24 hours",
		"End support session and remove app",
		"AdHocRemoteUser",
		"certificate",
		e.srv.Fingerprint(),
		`href="` + prep.Session.Token + `/download"`, // relative: the same page is served at HUB/st/ID/join/TOKEN
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the join page does not say %q", want)
		}
	}
	if strings.Contains(page, "<Técnica>") {
		t.Error("the technician's name reached the page unescaped")
	}
	if r.header.Get("Referrer-Policy") != "no-referrer" || r.header.Get("Content-Security-Policy") == "" {
		t.Errorf("headers %v: the token must not leak as a referrer", r.header)
	}
}

func TestDownloadCarriesPairingDetails(t *testing.T) {
	e := newEnv(t)
	_, prep := coretest.MustPrepare(t, e.st, "Ana", "ana@example.com")
	r := e.do("GET", "/join/"+prep.Session.Token+"/download", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("download: %d %s", r.status, r.body)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, `filename="AdHocSupport.exe"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if !bytes.HasPrefix(r.body, fakeExe) {
		t.Fatal("the download does not start with the program")
	}
	d, err := wire.ReadDetails(r.body[len(r.body)-min(len(r.body), wire.TrailerReadSize):])
	if err != nil {
		t.Fatalf("read details: %v", err)
	}
	if d.Token != prep.Session.Token || d.StationURL != e.srv.URL() || !slices.Equal(d.Pins, e.srv.Pins()) ||
		d.Technician != (wire.Technician{Name: "Ana", Email: "ana@example.com"}) {
		t.Errorf("details %+v; want token, %s, pins %v", d, e.srv.URL(), e.srv.Pins())
	}
	// The details work: the app's client pins them and pairs.
	c := pinnedClient(d.Pins, nil)
	if r := doWith(t, c, "POST", d.StationURL+"/api/v1/pair", "application/json", mustJSON(t, pairBody(d.Token, prep.Code))); r.status != http.StatusOK {
		t.Fatalf("pairing with the downloaded details: %d %s", r.status, r.body)
	}
}

func TestGonePages(t *testing.T) {
	e := newEnv(t)
	_, cancelled := coretest.MustPrepare(t, e.st, "Ana", "ana@example.com")
	if err := e.st.Cancel(t.Context(), cancelled.Session.ID); err != nil {
		t.Fatal(err)
	}
	_, active := coretest.MustPrepare(t, e.st, "Bo", "bo@example.com")
	if r := e.post("/api/v1/pair", pairBody(active.Session.Token, active.Code)); r.status != http.StatusOK {
		t.Fatalf("pair: %d %s", r.status, r.body)
	}
	_, ended := coretest.MustPrepare(t, e.st, "Cy", "cy@example.com")
	e.post("/api/v1/pair", pairBody(ended.Session.Token, ended.Code))
	if err := e.st.End(t.Context(), ended.Session.ID); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, token string
		status      int
		says        string
	}{
		{"unknown", "AAAAAAAAAAAAAAAAAAAAAA", http.StatusNotFound, "not valid"},
		{"cancelled", cancelled.Session.Token, http.StatusGone, "cancelled"},
		{"active", active.Session.Token, http.StatusGone, "already used"},
		{"ended", ended.Session.Token, http.StatusGone, "has ended"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/join/" + c.token, "/join/" + c.token + "/download"} {
				r := e.do("GET", path, "", nil)
				if r.status != c.status || !strings.Contains(string(r.body), c.says) {
					t.Errorf("%s: %d %q; want %d saying %q", path, r.status, r.body, c.status, c.says)
				}
				// Anyone holding the link may open it: it must not say which PC paired.
				if strings.Contains(string(r.body), coretest.WindowsPC.Hostname) {
					t.Errorf("%s names the paired computer: %q", path, r.body)
				}
				if bytes.Contains(r.body, fakeExe[:16]) || r.header.Get("Content-Disposition") != "" {
					t.Errorf("%s offered a download", path)
				}
			}
		})
	}
	// An invitation that timed out.
	_, late := coretest.MustPrepare(t, e.st, "Di", "di@example.com")
	e.clock.Advance(2 * time.Hour)
	if r := e.do("GET", "/join/"+late.Session.Token, "", nil); r.status != http.StatusGone || !strings.Contains(string(r.body), "expired") {
		t.Errorf("timed-out invitation: %d %s", r.status, r.body)
	}
}

func TestStationBuiltWithoutTheApp(t *testing.T) {
	st, clock := coretest.Open(t)
	e := startEnv(t, st, clock, Options{AgentExe: []byte{}}) // as when assets/agent has no AdHocSupport.exe
	_, prep := coretest.MustPrepare(t, e.st, "Ana", "ana@example.com")
	r := e.do("GET", "/join/"+prep.Session.Token+"/download", "", nil)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "make agent") {
		t.Fatalf("got %d %s", r.status, r.body)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
