package pairing

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

// TestFloodOfUnknownLinksOverHTTP sends pairing attempts with unknown links,
// each from a new loopback address on a new connection: past the
// station-wide budget they get 429 "try again in a minute", the database
// file stays small, and a real invitation still pairs from one of those
// addresses.
func TestFloodOfUnknownLinksOverHTTP(t *testing.T) {
	e := newEnv(t)
	_, prep := coretest.MustPrepare(t, e.st, "Ana", "ana@example.com")
	audit0, limits0 := coretest.Rows(t, e.st, "audit"), coretest.Rows(t, e.st, "rate_limits")
	from := func(i int) *http.Client {
		return oneShotClient(e.srv.Pins(), &net.TCPAddr{IP: net.IPv4(127, 3, byte(i>>8), byte(1+i&0xff))})
	}
	var last reply
	counts := map[int]int{}
	for i := range 150 {
		body, _ := json.Marshal(pairBody(fmt.Sprintf("guess-%d", i), "123 456 789"))
		last = doWith(t, from(i), "POST", e.srv.URL()+"/api/v1/pair", "application/json", body)
		counts[last.status]++
	}
	if last.status != http.StatusTooManyRequests || last.wireError(t).Code != wire.CodeRateLimited {
		t.Fatalf("150th attempt with an unknown link: %d %s (answers: %v)", last.status, last.body, counts)
	}
	if msg := last.wireError(t).Message; !strings.Contains(msg, "Try again in a minute") {
		t.Errorf("the refusal does not say what to do: %q", msg)
	}
	if retry, err := strconv.Atoi(last.header.Get("Retry-After")); err != nil || retry < 1 || retry > 60 {
		t.Errorf("Retry-After %q", last.header.Get("Retry-After"))
	}
	if n := coretest.Rows(t, e.st, "audit") - audit0; n > 2 {
		t.Errorf("the flood added %d audit rows; want at most 2", n)
	}
	if n := coretest.Rows(t, e.st, "rate_limits") - limits0; n > 1 {
		t.Errorf("the flood added %d rate_limits rows; want at most 1", n)
	}
	// The station-wide refusal is not a verdict on the address.
	body, _ := json.Marshal(pairBody(prep.Session.Token, prep.Code))
	if r := doWith(t, from(149), "POST", e.srv.URL()+"/api/v1/pair", "application/json", body); r.status != http.StatusOK {
		t.Fatalf("a real invitation from a flooding address: %d %s", r.status, r.body)
	}
}

// TestAgentCallsLimitedPerKey checks that one paired PC cannot make the
// station write without end: past the per-key limit its calls get 429 with
// Retry-After and are not audited; another PC is not affected, and the
// limit lifts after a minute.
func TestAgentCallsLimitedPerKey(t *testing.T) {
	e := newEnv(t)
	pair := func(name, email string) wire.AgentRequest {
		_, prep := coretest.MustPrepare(t, e.st, name, email)
		r := e.post("/api/v1/pair", pairBody(prep.Session.Token, prep.Code))
		var got wire.PairResponse
		if r.status != http.StatusOK || json.Unmarshal(r.body, &got) != nil {
			t.Fatalf("pair: %d %s", r.status, r.body)
		}
		return wire.AgentRequest{AgentKey: got.AgentKey, Detail: "account and app removed"}
	}
	noisy, quiet := pair("Ana", "ana@example.com"), pair("Bo", "bo@example.com")
	audit0 := coretest.Rows(t, e.st, "audit")
	var last reply
	ok := 0
	for range 200 {
		if last = e.post("/api/v1/cleanup", noisy); last.status == http.StatusOK {
			ok++
		}
	}
	if last.status != http.StatusTooManyRequests || last.wireError(t).Code != wire.CodeRateLimited {
		t.Fatalf("200th cleanup call in a minute: %d %s", last.status, last.body)
	}
	if retry, err := strconv.Atoi(last.header.Get("Retry-After")); err != nil || retry < 1 || retry > 60 {
		t.Errorf("Retry-After %q", last.header.Get("Retry-After"))
	}
	if ok < 20 {
		t.Errorf("only %d calls answered before the limit; the real app needs more", ok)
	}
	// The first receipt closed the session and was audited; repeats add nothing.
	if n := coretest.Rows(t, e.st, "audit") - audit0; n > 3 {
		t.Errorf("200 cleanup calls added %d audit rows", n)
	}
	if r := e.post("/api/v1/heartbeat", quiet); r.status != http.StatusOK {
		t.Errorf("another PC's heartbeat: %d %s", r.status, r.body)
	}
	e.clock.Advance(time.Minute)
	if r := e.post("/api/v1/heartbeat", noisy); r.status != http.StatusOK {
		t.Errorf("a minute later: %d %s", r.status, r.body)
	}
	if rows, _ := e.st.Audit(t.Context(), core.AuditFilter{Search: "cleanup receipt"}); len(rows) != 1 {
		t.Errorf("%d cleanup receipts audited; want 1", len(rows))
	}
}
