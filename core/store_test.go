package core

import (
	"path/filepath"
	"testing"
	"time"
)

// TestMigrateOldSchemaForward builds a database at schema version 1 with a
// session in it, then opens it with the current code.
func TestMigrateOldSchemaForward(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	wdb, rdb, err := openDB(filepath.Join(dir, DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, wdb, 1, now, keys{}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO profiles (id, name, email, created_at) VALUES (1, 'Old Tech', 'old@example.com', 0)`,
		`INSERT INTO sessions (profile_id, user_email, state, token, code_attempts_left, password_hash, created_at, invite_expires_at)
		 VALUES (1, 'u@example.com', 'prepared', 'tok', 5, 'x', 0, 1)`,
	} {
		if _, err := wdb.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := wdb.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'outbox'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("version 1 already has the outbox (%d, %v)", n, err)
	}
	wdb.Close()
	rdb.Close()

	st, err := Open(Config{DataDir: dir, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var version int
	if err := st.rdb.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil || version < 2 {
		t.Fatalf("schema version %d (%v)", version, err)
	}
	sessions, err := st.Sessions(ctx, SessionFilter{})
	if err != nil || len(sessions) != 1 || sessions[0].ProfileName != "Old Tech" {
		t.Fatalf("old session after migration: %+v %v", sessions, err)
	}
	// The old prepared session had timed out; Open cancelled it at once.
	if sessions[0].State != StateCancelled {
		t.Fatalf("overdue session state %s", sessions[0].State)
	}
}

func TestDurabilityPragmas(t *testing.T) {
	st, err := Open(Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "5000", "secure_delete": "1"} {
		var got string
		if err := st.db.QueryRow(`PRAGMA ` + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q (%v), want %q", pragma, got, err, want)
		}
	}
}
