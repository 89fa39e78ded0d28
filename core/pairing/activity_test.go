package pairing

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

// TestCleanupReceiptCarriesActivity: over HTTPS to the real station, the
// cleanup receipt may carry the PC's activity list (a full list near its
// bound is more than other calls may send); its entries are audited as
// "PC activity" after the receipt, cleaned (a bidi override and a line
// break would fake or hide an audit line), at most MaxActivityEntries of
// them, and the chain verifies. A repeated receipt adds nothing; no other
// call may carry a list; a body past MaxReceiptBytes is refused.
func TestCleanupReceiptCarriesActivity(t *testing.T) {
	e := newEnv(t)
	_, prep := coretest.MustPrepare(t, e.st, "Ana", "ana@example.com")
	r := e.post("/api/v1/pair", pairBody(prep.Session.Token, prep.Code))
	var paired wire.PairResponse
	if r.status != http.StatusOK || json.Unmarshal(r.body, &paired) != nil {
		t.Fatalf("pair: %d %s", r.status, r.body)
	}
	at := time.Date(2026, 3, 9, 14, 3, 5, 0, time.UTC)
	list := &wire.Activity{Earlier: 3}
	for i := range wire.MaxActivityEntries + 10 {
		list.Entries = append(list.Entries, wire.ActivityEntry{Seq: uint64(i + 4), At: at.Add(time.Duration(i) * time.Second),
			Kind: wire.ActivityList, Text: fmt.Sprintf("Ana looked at the folder C:\\Data\\%03d\u202Eexe.pdf\nfaked line", i)})
	}
	body := wire.AgentRequest{AgentKey: paired.AgentKey, Detail: "account removed", Activity: list}
	if b, _ := json.Marshal(body); len(b) <= wire.MaxRequestBytes {
		t.Fatalf("the test's list is %d bytes; it must need the receipt's larger bound", len(b))
	}
	if r := e.post("/api/v1/heartbeat", body); r.status != http.StatusBadRequest && r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a heartbeat carrying a list: %d %s; want refused", r.status, r.body)
	}
	small := wire.AgentRequest{AgentKey: paired.AgentKey, Activity: &wire.Activity{Entries: list.Entries[:1]}}
	if r := e.post("/api/v1/heartbeat", small); r.status != http.StatusBadRequest || !strings.Contains(r.wireError(t).Message, "cleanup receipt") {
		t.Errorf("a heartbeat carrying a small list: %d %s; want refused saying only the receipt carries one", r.status, r.body)
	}
	if r := e.post("/api/v1/cleanup", body); r.status != http.StatusOK {
		t.Fatalf("cleanup with the list: %d %s", r.status, r.body)
	}
	if r := e.post("/api/v1/cleanup", body); r.status != http.StatusOK {
		t.Fatalf("a repeated cleanup: %d %s", r.status, r.body)
	}
	rows, err := e.st.Audit(t.Context(), core.AuditFilter{Search: core.EventPCActivity, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != wire.MaxActivityEntries+1 {
		t.Fatalf("%d PC activity rows; want %d entries and the earlier count, once", len(rows), wire.MaxActivityEntries+1)
	}
	oldest, newest := rows[len(rows)-1], rows[0]
	if oldest.Detail != "the PC's list starts later: 13 earlier actions were not kept on the PC" {
		t.Errorf("the first row: %q", oldest.Detail)
	}
	want := `#213 at 2026-03-09 14:06:34 UTC (PC clock): Ana looked at the folder C:\Data\209exe.pdffaked line`
	if newest.Detail != want || newest.SessionID != prep.Session.ID {
		t.Errorf("the newest row: %q (session %d); want %q", newest.Detail, newest.SessionID, want)
	}
	receipts, _ := e.st.Audit(t.Context(), core.AuditFilter{Search: "cleanup receipt"})
	if len(receipts) != 1 || receipts[0].ID >= oldest.ID {
		t.Errorf("receipts %+v: want one, before the PC's rows", receipts)
	}
	if err := e.st.VerifyAudit(t.Context()); err != nil {
		t.Fatalf("the chain with the PC's rows: %v", err)
	}

	huge := wire.AgentRequest{AgentKey: paired.AgentKey, Detail: strings.Repeat("x", 10), Activity: &wire.Activity{}}
	for len(mustJSON(t, huge)) <= wire.MaxReceiptBytes {
		huge.Activity.Entries = append(huge.Activity.Entries, wire.ActivityEntry{Seq: 1, Text: strings.Repeat("y", 250)})
	}
	if r := e.post("/api/v1/cleanup", huge); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a receipt of more than %d bytes: %d %s; want 413", wire.MaxReceiptBytes, r.status, r.body)
	}
}
