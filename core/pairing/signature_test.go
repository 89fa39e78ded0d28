package pairing

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"adhocstation/core/coretest"
	"adhocstation/core/wire"
	"adhocstation/core/wire/signtest"
)

// A signed app: the download keeps its signature with the session's
// details inside, and the join page names the publisher.
func TestSignedDownload(t *testing.T) {
	app := signtest.Signed(t)
	st, clock := coretest.Open(t)
	e := startEnv(t, st, clock, Options{AgentExe: app.Exe})
	_, prep := coretest.MustPrepare(t, e.st, "Ana", "ana@example.com")

	r := e.do("GET", "/join/"+prep.Session.Token+"/download", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("download: %d %s", r.status, r.body)
	}
	if out, err := signtest.Verify(t, app, r.body); err != nil {
		t.Fatalf("osslsigncode refuses the download:\n%s", out)
	}
	d, err := wire.ReadDetails(r.body[len(r.body)-min(len(r.body), wire.TrailerReadSize):])
	if err != nil || d.Token != prep.Session.Token || d.StationURL != e.srv.URL() {
		t.Fatalf("details %+v, %v; want the session's token and %s", d, err, e.srv.URL())
	}

	page := string(e.do("GET", "/join/"+prep.Session.Token, "", nil).body)
	if !strings.Contains(page, "Verified publisher: "+signtest.Publisher) || strings.Contains(page, "Run anyway") {
		t.Errorf("the join page does not name the publisher %q (or still tells to run an unsigned file):\n%s", signtest.Publisher, page)
	}
	sig := e.srv.AppSignature()
	if !sig.Signed || sig.Publisher != signtest.Publisher || !sig.NotAfter.Equal(app.NotAfter) ||
		!strings.Contains(sig.Subject, "CN="+signtest.Publisher) || sig.Problem != "" {
		t.Errorf("signature %+v; want %s until %v", sig, signtest.Publisher, app.NotAfter)
	}
	if sig.Expiring(app.NotAfter.Add(-31*24*time.Hour)) || !sig.Expiring(app.NotAfter.Add(-29*24*time.Hour)) {
		t.Error("the expiry warning does not start 30 days ahead")
	}
}

// An unsigned app keeps today's trailer, and the page says why Windows warns.
func TestUnsignedDownloadSaysWhy(t *testing.T) {
	e := newEnv(t)
	_, prep := coretest.MustPrepare(t, e.st, "Ana", "ana@example.com")
	page := string(e.do("GET", "/join/"+prep.Session.Token, "", nil).body)
	for _, want := range []string{"not signed", "Windows protected your PC", "More info", "Run anyway", "Publisher: Unknown"} {
		if !strings.Contains(page, want) {
			t.Errorf("the join page for an unsigned app does not say %q", want)
		}
	}
	if strings.Contains(page, "Verified publisher") {
		t.Error("the join page names a publisher for an unsigned app")
	}
	if e.srv.AppSignature().Signed {
		t.Error("the fake app counts as signed")
	}
	r := e.do("GET", "/join/"+prep.Session.Token+"/download", "", nil)
	if !bytes.HasPrefix(r.body, fakeExe) {
		t.Fatal("the unsigned download does not start with the program")
	}
}
