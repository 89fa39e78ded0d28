package core

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMigrateSecretsAtRest builds a station as schema version 3 left it:
// plain link tokens, plain invitations, a closed session still holding its
// password hash and an unkeyed audit head. Opening it with the current code
// hashes and seals what must stay usable, forgets the rest, keys the head
// once, and a prepared session still pairs by its old link.
func TestMigrateSecretsAtRest(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	k, err := loadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	wdb, rdb, err := openDB(filepath.Join(dir, DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, wdb, 3, now, k); err != nil {
		t.Fatal(err)
	}
	const (
		open, closed = "OpenTokenOpenToken0001", "ClosedTokenClosedTok02"
		password     = "Old-Station-Pass-1"
		code         = "482193657"
	)
	pwHash, err := hashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	sealedPW, err := k.sealWith([]byte(password), []byte(open))
	if err != nil {
		t.Fatal(err)
	}
	exp := now.Add(time.Hour).UnixMilli()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO profiles (id, name, email, created_at) VALUES (1, 'Old Tech', 'old@example.com', 0)`, nil},
		{`INSERT INTO profiles (id, name, email, created_at) VALUES (2, 'Other Tech', 'other@example.com', 0)`, nil},
		{`INSERT INTO sessions (id, profile_id, user_email, state, token, code_hash, code_attempts_left, password_hash,
			password_sealed, created_at, invite_expires_at) VALUES (1, 1, 'u@example.com', 'prepared', ?, ?, 5, ?, ?, 0, ?)`,
			[]any{open, k.mac("code", code), pwHash, sealedPW, exp}},
		{`INSERT INTO sessions (id, profile_id, user_email, state, token, code_attempts_left, password_hash,
			created_at, invite_expires_at, closed_at) VALUES (2, 2, 'v@example.com', 'cancelled', ?, 5, ?, 0, 0, 0)`,
			[]any{closed, pwHash}},
		{`INSERT INTO outbox (session_id, mail_from, rcpt, subject, message, state, next_attempt_at, created_at)
			VALUES (1, 's@example.com', 'u@example.com', 'Support', ?, 'queued', 0, 0)`,
			[]any{[]byte("Subject: Support\r\n\r\nhttps://station:8443/join/" + open + "\r\n")}},
		{`INSERT INTO outbox (session_id, mail_from, rcpt, subject, message, state, next_attempt_at, created_at)
			VALUES (2, 's@example.com', 'v@example.com', 'Support', ?, 'failed', 0, 0)`,
			[]any{[]byte("Subject: Support\r\n\r\nhttps://station:8443/join/" + closed + "\r\n")}},
	} {
		if _, err := wdb.Exec(q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	// Two audit rows, then the head as version 3 wrote it: "id:hash".
	old := &Station{keys: k, nowFn: func() time.Time { return now }}
	tx, err := wdb.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []string{"session prepared", "session cancelled"} {
		if err := old.audit(tx, 1, 1, ev, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Exec(`UPDATE settings SET value = (SELECT id || ':' || hash FROM audit WHERE id = 2) WHERE key = ?`, auditHeadKey); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	wdb.Close()
	rdb.Close()

	st, err := Open(Config{DataDir: dir, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()
	for _, token := range []string{open, closed} {
		var n int
		if err := st.rdb.QueryRow(`SELECT (SELECT COUNT(*) FROM sessions WHERE token_mac LIKE '%' || ?1 || '%' OR token_sealed LIKE '%' || ?1 || '%')
			+ (SELECT COUNT(*) FROM outbox WHERE instr(message, ?1) > 0)`, token).Scan(&n); err != nil || n != 0 {
			t.Errorf("token %s still stored in %d rows (%v)", token, n, err)
		}
	}
	// Nor in the files: the old pages are wiped, not just unlinked.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		for _, token := range []string{open, closed} {
			if bytes.Contains(b, []byte(token)) {
				t.Errorf("%s still holds the token %s", e.Name(), token)
			}
		}
	}
	if err := st.VerifyAudit(ctx); err != nil {
		t.Errorf("the upgraded head does not verify: %v", err)
	}
	var hash string
	var msg []byte
	if err := st.rdb.QueryRow(`SELECT s.password_hash, o.message FROM sessions s JOIN outbox o ON o.session_id = s.id
		WHERE s.id = 2`).Scan(&hash, &msg); err != nil || hash != "" || len(msg) != 0 {
		t.Errorf("closed session keeps hash %q and a %d-byte invitation (%v)", hash, len(msg), err)
	}
	if err := st.rdb.QueryRow(`SELECT message FROM outbox WHERE session_id = 1`).Scan(&msg); err != nil {
		t.Fatal(err)
	}
	if plain, err := k.openMessage(msg); err != nil || !bytes.Contains(plain, []byte(open)) {
		t.Errorf("the prepared session's invitation is not sealed for sending: %q, %v", plain, err)
	}
	sess, err := st.Invitation(ctx, open)
	if err != nil || sess.Token != open {
		t.Fatalf("old link after migration: %+v, %v", sess, err)
	}
	paired, err := st.Pair(ctx, PairRequest{Token: open, Code: code, RemoteAddr: "192.0.2.1:1",
		Facts: ComputerFacts{OSName: "Windows 11 Pro", Hostname: "PC"}})
	if err != nil || paired.Password != password {
		t.Fatalf("pairing by an old link: %v (password %q)", err, paired.Password)
	}

	// The upgrade happens once: an unkeyed head written later is tampering,
	// also after a restart.
	st.Close()
	db, rdb2, err := openDB(filepath.Join(dir, DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	rdb2.Close()
	if _, err := db.Exec(`UPDATE settings SET value = (SELECT id || ':' || hash FROM audit ORDER BY id DESC LIMIT 1) WHERE key = ?`, auditHeadKey); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if st, err = Open(Config{DataDir: dir, Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	if err := st.VerifyAudit(ctx); !errors.Is(err, ErrAuditBroken) {
		t.Fatalf("an unkeyed head after the upgrade: %v", err)
	}
}
