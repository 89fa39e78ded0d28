package core

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// auditHeadKey remembers the newest row's id and hash, so that deleting the
// last rows of the chain is detected too. The value is "id:hash:mac": the
// MAC (audit key) stops someone with only the database from moving the head
// back to an older row after deleting the rows above it.
const auditHeadKey = "audit_head"

// headMAC keys the head's sequence number and hash.
func (k keys) headMAC(id int64, hash string) string {
	m := hmac.New(sha256.New, k.audit)
	m.Write([]byte("audit head\x00"))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(id))
	m.Write(n[:])
	m.Write([]byte(hash))
	return hex.EncodeToString(m.Sum(nil))
}

// headValue is the stored form of a head.
func (k keys) headValue(id int64, hash string) string {
	return fmt.Sprintf("%d:%s:%s", id, hash, k.headMAC(id, hash))
}

// writeHead stores the head inside tx.
func writeHead(tx *sql.Tx, value string) error {
	_, err := tx.Exec(`INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, auditHeadKey, value)
	return err
}

// auditHash chains a row to its predecessor. It is keyed with the station
// key, so rewriting the chain needs the key file as well as the database.
func (k keys) auditHash(prev string, e AuditEntry) string {
	m := hmac.New(sha256.New, k.audit)
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		m.Write(n[:])
		m.Write([]byte(s))
	}
	num := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		m.Write(n[:])
	}
	field(prev)
	num(e.ID)
	num(e.At.UnixMilli())
	num(e.ProfileID)
	num(e.SessionID)
	field(e.Event)
	field(e.Detail)
	return hex.EncodeToString(m.Sum(nil))
}

// audit appends one row to the chain inside tx.
func (s *Station) audit(tx *sql.Tx, profileID, sessionID int64, event, detail string) error {
	var prevID int64
	var prev string
	err := tx.QueryRow(`SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1`).Scan(&prevID, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	e := AuditEntry{ID: prevID + 1, At: s.now().Truncate(1e6), ProfileID: profileID, SessionID: sessionID, Event: event, Detail: detail}
	e.Hash = s.keys.auditHash(prev, e)
	if _, err := tx.Exec(`INSERT INTO audit (id, at, profile_id, session_id, event, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, ms2(e.At), profileID, sessionID, event, detail, prev, e.Hash); err != nil {
		return err
	}
	return writeHead(tx, s.keys.headValue(e.ID, e.Hash))
}

// AuditFilter narrows Audit. Search matches the event or detail text.
type AuditFilter struct {
	Search string
	Limit  int // 0 means 500
}

// Audit returns audit rows, newest first.
func (s *Station) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	q := `SELECT id, at, profile_id, session_id, event, detail, prev_hash, hash FROM audit`
	var args []any
	if f.Search != "" {
		q += ` WHERE event LIKE ? ESCAPE '\' OR detail LIKE ? ESCAPE '\'`
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Search) + "%"
		args = append(args, like, like)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func scanAudit(rows *sql.Rows) (AuditEntry, error) {
	var e AuditEntry
	var at sql.NullInt64
	err := rows.Scan(&e.ID, &at, &e.ProfileID, &e.SessionID, &e.Event, &e.Detail, &e.PrevHash, &e.Hash)
	e.At = fromMS(at)
	return e, err
}

// VerifyAudit walks the whole chain. It returns an *AuditError (matching
// ErrAuditBroken) naming the first row that was modified, deleted or
// inserted out of order, or nil when the log is intact.
func (s *Station) VerifyAudit(ctx context.Context) error {
	// One read transaction: the rows and the head from the same moment. An
	// entry written between reading them (a recording sealed, a remote
	// session closed) read as "the newest entries were removed".
	tx, err := s.rdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id, at, profile_id, session_id, event, detail, prev_hash, hash FROM audit ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var prevID int64
	prev := ""
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return err
		}
		switch {
		case e.ID != prevID+1:
			return &AuditError{RowID: prevID + 1, Reason: "the entry is missing"}
		case e.PrevHash != prev:
			return &AuditError{RowID: e.ID, Reason: "it does not follow the entry before it"}
		case !hmac.Equal([]byte(s.keys.auditHash(prev, e)), []byte(e.Hash)):
			return &AuditError{RowID: e.ID, Reason: "its content was changed"}
		}
		prevID, prev = e.ID, e.Hash
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// Every station has a keyed head from its first migration on, even with
	// an empty log, so a missing head is as telling as a wrong one.
	var head string
	err = tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, auditHeadKey).Scan(&head)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if !hmac.Equal([]byte(head), []byte(s.keys.headValue(prevID, prev))) {
		return &AuditError{RowID: prevID + 1, Reason: "the newest entries were removed"}
	}
	return nil
}

// upgradeAuditHead keys an unkeyed head ("id:hash", before migration 4)
// once, keeping the values it claims: a log truncated before the upgrade is
// still reported. A fresh station gets the head of the empty log.
func upgradeAuditHead(ctx context.Context, tx *sql.Tx, k keys) error {
	var head string
	err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, auditHeadKey).Scan(&head)
	if errors.Is(err, sql.ErrNoRows) {
		var rows int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit`).Scan(&rows); err != nil || rows > 0 {
			return err // a log without a head stays reported
		}
		return writeHead(tx, k.headValue(0, ""))
	}
	if err != nil {
		return err
	}
	idText, hash, ok := strings.Cut(head, ":")
	id, perr := strconv.ParseInt(idText, 10, 64)
	if !ok || perr != nil || strings.Contains(hash, ":") {
		return nil // not the old format: leave it for VerifyAudit to judge
	}
	return writeHead(tx, k.headValue(id, hash))
}
