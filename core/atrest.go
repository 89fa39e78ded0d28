package core

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
)

// Secrets at rest. The deployment link's token opens the join page and,
// with the security code, pairs a PC, so the database keeps only:
//   - token_mac: a keyed hash of the token, for looking a link up;
//   - token_sealed: the token sealed with the station key, only while the
//     session is prepared, because Resend and "Open in mail program"
//     rebuild the link from it (possibly with a new address after a
//     settings change, or after a restart);
//   - the outbox message sealed the same way; it carries the link, so it is
//     emptied once the session leaves prepared.
// The triggers of migration 0004 do the forgetting, so every way out of
// prepared does it. Without station.key none of these reveals the link.

// tokenMAC is what sessions.token_mac holds for token.
func (k keys) tokenMAC(token string) string { return hex.EncodeToString(k.mac("token", token)) }

func (k keys) sealToken(token string) ([]byte, error) {
	return k.sealWith([]byte(token), []byte("token"))
}

// openToken returns the token of a prepared session ("" once it is gone).
func (k keys) openToken(sealed []byte) string {
	if len(sealed) == 0 {
		return ""
	}
	b, err := k.unsealWith(sealed, []byte("token"))
	if err != nil {
		return "" // a damaged copy: Resend refuses rather than send a broken link
	}
	return string(b)
}

// sealMessage seals an outbox message; an empty one (not composed yet, or
// forgotten) stays empty.
func (k keys) sealMessage(msg []byte) ([]byte, error) {
	if len(msg) == 0 {
		return []byte{}, nil
	}
	return k.sealWith(msg, []byte("outbox"))
}

func (k keys) openMessage(sealed []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, errors.New("the stored invitation is empty")
	}
	return k.unsealWith(sealed, []byte("outbox"))
}

// errNoLink is returned when a prepared session's link cannot be rebuilt
// (its sealed token is missing or damaged).
var errNoLink = errors.New("the deployment link of this session cannot be rebuilt (its sealed copy is missing or damaged); cancel the session and prepare a new one")

// upgradeSecretsAtRest is migration 0004's Go step for stations that
// stored plain tokens and messages: hash the tokens, seal what a prepared
// session still needs, forget what closed ones do not, and key the audit
// head.
func upgradeSecretsAtRest(ctx context.Context, tx *sql.Tx, k keys) error {
	type row struct {
		id    int64
		state State
		token string
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, state, token_mac FROM sessions`)
	if err != nil {
		return err
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.state, &r.token); err != nil {
			rows.Close()
			return err
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range all {
		var sealed []byte
		if r.state == StatePrepared {
			if sealed, err = k.sealToken(r.token); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET token_mac = ?, token_sealed = ? WHERE id = ?`,
			k.tokenMAC(r.token), sealed, r.id); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET password_hash = '', password_sealed = NULL, code_hash = NULL
		WHERE state NOT IN ('prepared', 'active')`); err != nil {
		return err
	}
	if err := sealOldMessages(ctx, tx, k); err != nil {
		return err
	}
	return upgradeAuditHead(ctx, tx, k)
}

// sealOldMessages seals the plain invitations of prepared sessions and
// empties the others.
func sealOldMessages(ctx context.Context, tx *sql.Tx, k keys) error {
	if _, err := tx.ExecContext(ctx, `UPDATE outbox SET message = X''
		WHERE session_id NOT IN (SELECT id FROM sessions WHERE state = 'prepared')`); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, message FROM outbox WHERE length(message) > 0`)
	if err != nil {
		return err
	}
	msgs := map[int64][]byte{}
	for rows.Next() {
		var id int64
		var msg []byte
		if err := rows.Scan(&id, &msg); err != nil {
			rows.Close()
			return err
		}
		msgs[id] = msg
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for id, msg := range msgs {
		sealed, err := k.sealMessage(msg)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET message = ? WHERE id = ?`, sealed, id); err != nil {
			return err
		}
	}
	return nil
}
