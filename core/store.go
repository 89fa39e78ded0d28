package core

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// dsn builds the SQLite connection string. synchronous=FULL because write
// rates are low and NORMAL can lose the last commits on power loss;
// txlock=immediate so a write transaction takes the lock up front instead of
// failing half-way with SQLITE_BUSY. secure_delete because the store
// forgets secrets by overwriting them.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "5000")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "FULL")
	// Overwrite deleted content with zeros, so a forgotten link, hash or old
	// plain token does not linger in free pages of the file.
	q.Set("_secure_delete", "true")
	if readOnly {
		q.Set("_query_only", "1")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// openDB opens the writer (one connection) and a small reader pool.
func openDB(path string) (wdb, rdb *sql.DB, err error) {
	wdb, err = sql.Open("sqlite3", dsn(path, false))
	if err != nil {
		return nil, nil, err
	}
	wdb.SetMaxOpenConns(1)
	if err := wdb.Ping(); err != nil {
		wdb.Close()
		return nil, nil, fmt.Errorf("open the station database %s: %w", path, err)
	}
	rdb, err = sql.Open("sqlite3", dsn(path, true))
	if err != nil {
		wdb.Close()
		return nil, nil, err
	}
	rdb.SetMaxOpenConns(4)
	return wdb, rdb, nil
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its version number", base)
		}
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrationSteps are the parts of a migration SQL cannot do (they need the
// station key); each runs in its migration's transaction, after its SQL.
var migrationSteps = map[int]func(ctx context.Context, tx *sql.Tx, k keys) error{
	4: upgradeSecretsAtRest,
}

// migrate applies, in order and each in its own transaction, every embedded
// migration newer than the database. upTo limits the version (0 = all); tests
// use it to build an old schema.
func migrate(ctx context.Context, db *sql.DB, upTo int, now time.Time, k keys) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	var current int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return err
	}
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.version <= current || (upTo > 0 && m.version > upTo) {
			continue
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if step := migrationSteps[m.version]; step != nil {
			if err := step(ctx, tx, k); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, ms2(now)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if migrationSteps[m.version] != nil {
			// The WAL still holds the pages as they were before the step
			// (plain tokens, for 0004): copy them home and empty it.
			if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
	}
	return nil
}

// Times are stored as INTEGER unix milliseconds (UTC); NULL means "not yet".
func ms2(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// scanIDs reads a one-column result of IDs and closes rows. It takes the
// query's own return values, so a call reads scanIDs(db.QueryContext(...)).
func scanIDs(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
