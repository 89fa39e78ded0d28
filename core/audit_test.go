package core_test

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// tamper runs SQL on the station's file behind its back, as an attacker
// with file access would, dropping the append-only triggers first.
func tamper(t *testing.T, dir string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, core.DatabaseFile)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range append([]string{`DROP TRIGGER audit_no_update`, `DROP TRIGGER audit_no_delete`}, stmts...) {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestVerifyAudit(t *testing.T) {
	cases := []struct {
		name   string
		stmt   string
		row    int64
		reason string
	}{
		{"Modified", `UPDATE audit SET detail = 'nothing to see' WHERE id = 2`, 2, "changed"},
		{"Deleted", `DELETE FROM audit WHERE id = 2`, 2, "missing"},
		{"DeletedNewest", `DELETE FROM audit WHERE id = (SELECT MAX(id) FROM audit)`, 3, "removed"},
		{"Rechained", `UPDATE audit SET prev_hash = 'x' WHERE id = 3`, 3, "follow"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			dir := t.TempDir()
			st := coretest.OpenWith(t, dir, coretest.NewClock(coretest.Start), nil)
			coretest.MustPrepare(t, st, "Tom", "tom@example.com") // rows 1 (profile) and 2 (prepared)
			if _, err := st.CreateProfile(ctx, "Eve", "eve@example.com"); err != nil {
				t.Fatal(err)
			}
			if err := st.VerifyAudit(ctx); err != nil {
				t.Fatalf("intact log: %v", err)
			}
			tamper(t, dir, tc.stmt)
			err := st.VerifyAudit(ctx)
			var ae *core.AuditError
			if !errors.As(err, &ae) || ae.RowID != tc.row || !strings.Contains(ae.Reason, tc.reason) {
				t.Fatalf("Verify = %v, want row %d %q", err, tc.row, tc.reason)
			}
		})
	}
}

func TestAuditIsAppendOnly(t *testing.T) {
	dir := t.TempDir()
	st := coretest.OpenWith(t, dir, coretest.NewClock(coretest.Start), nil)
	coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, core.DatabaseFile)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit SET detail = 'x'`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update of the audit log: %v", err)
	}
}

// TestSecretsNotStored greps every file the station writes for the code,
// the technician's password and the SMTP password.
func TestSecretsNotStored(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	var logs bytes.Buffer
	clock := coretest.NewClock(coretest.Start)
	st, err := core.Open(core.Config{DataDir: dir, Now: clock.Now, Logger: newTestLogger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	code2, err := st.RegenerateCode(ctx, prep.Session.ID)
	if err != nil {
		t.Fatal(err)
	}
	digits := func(c string) string { return strings.ReplaceAll(c, " ", "") }
	secrets := []string{coretest.Password, digits(prep.Code), prep.Code, digits(code2), code2}
	var files [][]byte
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, b)
		}
		return nil
	})
	files = append(files, logs.Bytes())
	if len(files) < 3 {
		t.Fatalf("expected the database, its WAL and the key, got %d files", len(files))
	}
	for _, f := range files {
		for _, s := range secrets {
			if bytes.Contains(f, []byte(s)) {
				t.Errorf("a station file contains the secret %q", s)
			}
		}
	}
}

// TestAuditTruncationDetected is the attack on the real file: drop the
// triggers, delete the newest rows and move audit_head back to what an older
// row's head looked like. The keyed head cannot be forged without the key.
func TestAuditTruncationDetected(t *testing.T) {
	for _, tc := range []struct{ name, head string }{
		{"UnkeyedHead", `(SELECT id || ':' || hash FROM audit WHERE id = 2)`},
		// The current head's key material reused for the older row.
		{"ReusedMAC", `(SELECT id || ':' || hash FROM audit WHERE id = 2) || substr(value, instr(substr(value, instr(value, ':') + 1), ':') + instr(value, ':'))`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			dir := t.TempDir()
			st := coretest.OpenWith(t, dir, coretest.NewClock(coretest.Start), nil)
			coretest.MustPrepare(t, st, "Tom", "tom@example.com") // rows 1 and 2
			for _, who := range []string{"eve", "mallory"} {
				if _, err := st.CreateProfile(ctx, who, who+"@example.com"); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.VerifyAudit(ctx); err != nil {
				t.Fatalf("intact log: %v", err)
			}
			tamper(t, dir, `DELETE FROM audit WHERE id > 2`,
				`UPDATE settings SET value = `+tc.head+` WHERE key = 'audit_head'`)
			err := st.VerifyAudit(ctx)
			var ae *core.AuditError
			if !errors.As(err, &ae) {
				t.Fatalf("truncated log with a moved head verifies: %v", err)
			}
		})
	}
}

// TestAuditHeadOfEmptyLog: a fresh station verifies, and one whose log was
// emptied together with its head does not.
func TestAuditHeadOfEmptyLog(t *testing.T) {
	dir := t.TempDir()
	st := coretest.OpenWith(t, dir, coretest.NewClock(coretest.Start), nil)
	if err := st.VerifyAudit(t.Context()); err != nil {
		t.Fatalf("fresh station: %v", err)
	}
	if _, err := st.CreateProfile(t.Context(), "Eve", "eve@example.com"); err != nil {
		t.Fatal(err)
	}
	tamper(t, dir, `DELETE FROM audit`, `DELETE FROM settings WHERE key = 'audit_head'`)
	if err := st.VerifyAudit(t.Context()); !errors.Is(err, core.ErrAuditBroken) {
		t.Fatalf("emptied log without a head: %v", err)
	}
}

// TestVerifyAuditWhileWriting: entries written while Verify integrity runs
// (a recording sealed, a remote session closed as the technician checks)
// are not reported as removed: the rows and the head are read together.
func TestVerifyAuditWhileWriting(t *testing.T) {
	ctx := t.Context()
	st, _ := coretest.Open(t)
	done := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := st.CreateProfile(ctx, fmt.Sprintf("tech%d", i), fmt.Sprintf("tech%d@example.com", i)); err != nil {
				done <- err
				return
			}
		}
	}()
	for range 200 {
		if err := st.VerifyAudit(ctx); err != nil {
			close(stop)
			t.Fatalf("verified while entries were written: %v", err)
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
