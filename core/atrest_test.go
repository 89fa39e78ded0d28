package core_test

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/mail/mailtest"
)

// rawDB opens the station's file directly, as someone holding a copy would.
func rawDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, core.DatabaseFile)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// cellsContaining returns "table.column" for every stored value of every
// table that contains needle.
func cellsContaining(t *testing.T, db *sql.DB, needle string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var hits []string
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				var b []byte
				switch v := v.(type) {
				case string:
					b = []byte(v)
				case []byte:
					b = v
				}
				if bytes.Contains(b, []byte(needle)) {
					hits = append(hits, table+"."+cols[i])
				}
			}
		}
		rows.Close()
	}
	return hits
}

// filesContaining returns the data folder's files whose bytes contain needle.
func filesContaining(t *testing.T, dir, needle string) []string {
	t.Helper()
	var hits []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil && bytes.Contains(b, []byte(needle)) {
			hits = append(hits, e.Name())
		}
	}
	return hits
}

// TestLinkTokenNotAtRest prepares a session whose invitation is queued
// (SMTP configured, outbox not running): neither the database's tables nor
// its files hold the token, yet the link can be rebuilt while the session
// is prepared, also after a restart, and pairing by link works then.
func TestLinkTokenNotAtRest(t *testing.T) {
	t.Setenv(core.KeyringEnv, "off")
	ctx := t.Context()
	dir := t.TempDir()
	clock := coretest.NewClock(coretest.Start)
	st := coretest.OpenWith(t, dir, clock, nil)
	configure(t, st, mailtest.Start(t, mailtest.StartTLS), mailtest.Password)
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	token := prep.Session.Token
	if len(token) < 22 || !strings.HasSuffix(prep.Link, token) {
		t.Fatalf("token %q, link %q", token, prep.Link)
	}
	if hits := cellsContaining(t, rawDB(t, dir), token); len(hits) > 0 {
		t.Errorf("the token is stored in %v", hits)
	}
	if hits := filesContaining(t, dir, token); len(hits) > 0 {
		t.Errorf("the token is in the files %v", hits)
	}

	st.Close()
	st = coretest.OpenWith(t, dir, clock, nil)
	sess, err := st.Session(ctx, prep.Session.ID)
	if err != nil || sess.Token != token {
		t.Fatalf("after a restart the prepared session's token is %q (%v)", sess.Token, err)
	}
	mailto, err := st.InvitationMailto(ctx, prep.Session.ID)
	if err != nil || !strings.Contains(mailto, token) {
		t.Fatalf("mailto after a restart: %q, %v", mailto, err)
	}
	if err := st.ResendInvitation(ctx, prep.Session.ID); err != nil {
		t.Fatalf("resend after a restart: %v", err)
	}
	if hits := filesContaining(t, dir, token); len(hits) > 0 {
		t.Errorf("after Resend the token is in the files %v", hits)
	}
	if _, err := st.Invitation(ctx, token); err != nil {
		t.Fatalf("join page after a restart: %v", err)
	}
	if _, err := st.Pair(ctx, core.PairRequest{Token: token, Code: prep.Code, RemoteAddr: "192.0.2.1:1",
		Facts: coretest.WindowsPC}); err != nil {
		t.Fatalf("pairing by link after a restart: %v", err)
	}
}

// TestLinkForgottenWhenSessionLeavesPrepared: while prepared the stored
// invitation and the sealed token exist (Resend needs them); once the
// session is paired, cancelled or timed out, both are gone.
func TestLinkForgottenWhenSessionLeavesPrepared(t *testing.T) {
	for _, tc := range waysToLeavePrepared("Paired", "Cancelled", "TimedOut") {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(core.KeyringEnv, "off")
			dir := t.TempDir()
			clock := coretest.NewClock(coretest.Start)
			st := coretest.OpenWith(t, dir, clock, nil)
			configure(t, st, mailtest.Start(t, mailtest.StartTLS), mailtest.Password)
			_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
			db := rawDB(t, dir)
			stored := func() (msgLen int, sealedToken bool) {
				t.Helper()
				if err := db.QueryRow(`SELECT (SELECT SUM(length(message)) FROM outbox WHERE session_id = s.id),
					s.token_sealed IS NOT NULL FROM sessions s WHERE s.id = ?`, prep.Session.ID).Scan(&msgLen, &sealedToken); err != nil {
					t.Fatal(err)
				}
				return msgLen, sealedToken
			}
			if n, sealed := stored(); n == 0 || !sealed {
				t.Fatalf("while prepared: message of %d bytes, sealed token %v", n, sealed)
			}
			if _, err := st.InvitationMailto(t.Context(), prep.Session.ID); err != nil {
				t.Fatalf("mailto while prepared: %v", err)
			}
			tc.leave(t, st, clock, prep)
			if n, sealed := stored(); n != 0 || sealed {
				t.Fatalf("after leaving prepared: message of %d bytes, sealed token %v", n, sealed)
			}
			sess, err := st.Session(t.Context(), prep.Session.ID)
			if err != nil || sess.Token != "" {
				t.Fatalf("token after leaving prepared %q (%v)", sess.Token, err)
			}
		})
	}
}

// TestDamagedSealedTokenHoldsUpNoOtherInvitation: a prepared session whose
// sealed token cannot be opened cannot have its link rebuilt; the other
// waiting invitations still go out once SMTP is set up.
func TestDamagedSealedTokenHoldsUpNoOtherInvitation(t *testing.T) {
	t.Setenv(core.KeyringEnv, "off")
	dir := t.TempDir()
	st := coretest.OpenWith(t, dir, coretest.NewClock(coretest.Start), nil)
	_, damaged := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	_, fine := coretest.MustPrepare(t, st, "Eve", "eve@example.com")
	if _, err := rawDB(t, dir).Exec(`UPDATE sessions SET token_sealed = x'00' WHERE id = ?`, damaged.Session.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InvitationMailto(t.Context(), damaged.Session.ID); err == nil {
		t.Error("a mailto: link was built without the token")
	}
	sub := st.Subscribe()
	run(t, st)
	srv := mailtest.Start(t, mailtest.StartTLS)
	configure(t, st, srv, mailtest.Password)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-sub.C:
			if e.Kind == core.EventEmail && e.SessionID == fine.Session.ID && e.Detail == string(core.EmailSent) {
				return
			}
		case <-deadline:
			t.Fatal("the other session's invitation was not sent within 10 s")
		}
	}
}
