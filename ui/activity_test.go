package ui

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

func pagesTestActivity(t *testing.T) (*core.Station, string, *activityScreen, *core.Subscription) {
	t.Helper()
	dir := t.TempDir()
	st := coretest.OpenWith(t, dir, coretest.NewClock(coretest.Start), nil)
	w := testWindow(t)
	sub := st.Subscribe()
	t.Cleanup(sub.Close)
	s := newActivityScreen(st, w)
	s.loc = time.UTC
	s.reload()
	w.SetContent(s.content())
	return st, dir, s, sub
}

// pagesTestEvents is the Event column as listed, top to bottom.
func pagesTestEvents(s *activityScreen) []string {
	var out []string
	for _, e := range s.entries {
		out = append(out, e.Event)
	}
	return out
}

func TestActivityListsNewestFirstAndSearches(t *testing.T) {
	st, _, s, sub := pagesTestActivity(t)
	if !s.empty.Visible() || !strings.HasPrefix(s.empty.Text, "Nothing has happened yet") {
		t.Fatalf("empty log: visible %v, %q", s.empty.Visible(), s.empty.Text)
	}
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	deliverUntil(t, sub, s.onEvent, core.EventPrepared)
	pairPC(t, st, prep)
	deliverUntil(t, sub, s.onEvent, core.EventPaired)
	if _, err := st.CreateProfile(t.Context(), "Eve", "eve@example.com"); err != nil {
		t.Fatal(err)
	}
	deliverUntil(t, sub, s.onEvent, core.EventProfiles)

	all, err := st.Audit(t.Context(), core.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.entries) != len(all) || len(all) < 4 {
		t.Fatalf("listed %d of %d entries", len(s.entries), len(all))
	}
	for i := 1; i < len(s.entries); i++ {
		if s.entries[i-1].ID < s.entries[i].ID {
			t.Fatalf("not newest first: %v", pagesTestEvents(s))
		}
	}
	if s.empty.Visible() {
		t.Fatal("empty state shown over entries")
	}

	// Selecting an entry shows it in full, and it stays selected when a
	// new entry arrives above it.
	s.list.Select(2)
	picked := s.entries[2]
	if !strings.Contains(s.detail.Text, picked.Detail) || !strings.Contains(s.detail.Text, picked.Event) {
		t.Fatalf("detail %q for entry %+v", s.detail.Text, picked)
	}
	shown := s.detail.Text
	if _, err := st.CreateProfile(t.Context(), "Zoe", "zoe@example.com"); err != nil {
		t.Fatal(err)
	}
	deliverUntil(t, sub, s.onEvent, core.EventProfiles)
	if s.selected != picked.ID || s.detail.Text != shown || s.entries[3].ID != picked.ID {
		t.Fatalf("selection moved: selected %d, want %d; detail %q", s.selected, picked.ID, s.detail.Text)
	}

	test.Type(s.search, "eve@")
	if len(s.entries) != 1 || !strings.Contains(s.entries[0].Detail, "eve@example.com") {
		t.Fatalf("search eve@: %v", s.entries)
	}
	if s.count.Text != "1 entry match “eve@”." {
		t.Fatalf("count %q", s.count.Text)
	}
	test.Type(s.search, "nobody")
	if len(s.entries) != 0 || !s.empty.Visible() || !strings.Contains(s.empty.Text, "Nothing matches") {
		t.Fatalf("search with no match: %d entries, empty %v %q", len(s.entries), s.empty.Visible(), s.empty.Text)
	}
}

// pagesTestTamper edits the audit log behind the station's back, as someone
// with the database file could, dropping the append-only triggers first.
func pagesTestTamper(t *testing.T, dir, stmt string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, core.DatabaseFile)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DROP TRIGGER audit_no_update`, `DROP TRIGGER audit_no_delete`, stmt} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// pagesTestVerify taps Verify integrity and waits for the result.
func pagesTestVerify(t *testing.T, s *activityScreen) {
	t.Helper()
	watchWork(&s.work).during(t, jobVerify, func() { test.Tap(s.verify) })
}

func TestActivityVerifyIntegrity(t *testing.T) {
	st, dir, s, _ := pagesTestActivity(t)
	coretest.MustPrepare(t, st, "Tom", "tom@example.com")

	pagesTestVerify(t, s)
	if want := "The audit log is intact: no entry was changed or removed (checked at 09:00:00)."; s.verdict.Text != want {
		t.Fatalf("intact log: %q", s.verdict.Text)
	}

	pagesTestTamper(t, dir, `UPDATE audit SET detail = 'nothing to see' WHERE id = 2`)
	pagesTestVerify(t, s)
	if !strings.HasPrefix(s.verdict.Text, "The audit log has been altered at entry 2: its content was changed.") {
		t.Fatalf("tampered log: %q", s.verdict.Text)
	}
}

func TestActivityGolden(t *testing.T) {
	st, _, s, _ := pagesTestActivity(t)
	pagesTestFixture(t, st)
	s.reload()
	pagesTestVerify(t, s)
	test.AssertRendersToMarkup(t, "activity.xml", s.win.Canvas())
	test.AssertRendersToImage(t, "activity.png", s.win.Canvas())
}
