package pairing

import (
	"net/http"
	"strings"
	"testing"

	"adhocstation/core/coretest"
)

// The join page tells the user that sessions are recorded while Settings
// record them, and not once recording is turned off.
func TestJoinPageSaysSessionsAreRecorded(t *testing.T) {
	e := newEnv(t)
	_, prep := coretest.MustPrepare(t, e.st, "Ana", "ana@example.com")
	page := func() string {
		r := e.do("GET", "/join/"+prep.Session.Token, "", nil)
		if r.status != http.StatusOK {
			t.Fatalf("join page: %d %s", r.status, r.body)
		}
		return string(r.body)
	}
	if !strings.Contains(page(), "Sessions are recorded") {
		t.Fatal("the join page does not say sessions are recorded")
	}
	set, err := e.st.Settings(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	set.Recording.Enabled = false
	if err := e.st.SaveSettings(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page(), "recorded") {
		t.Fatal("the join page says sessions are recorded with recording off")
	}
}
