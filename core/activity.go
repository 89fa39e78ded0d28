package core

import (
	"database/sql"
	"fmt"

	"adhocstation/core/wire"
)

// EventPCActivity is the audit event of each action in the PC's own
// account of a session, which its cleanup receipt carries: what the
// technician did as the Support Session app on the PC served it (docs/
// PROTOCOL.md, "Activity"). It stands beside the station's own entries
// (remote sign-in, ...), so the two accounts can be compared.
const EventPCActivity = "PC activity"

// auditActivity audits the PC's list inside the receipt's transaction,
// one row per action, oldest first, after a row saying how many earlier
// ones the PC no longer kept. Everything is the PC's word, so it is
// cleaned and bounded as any text from a PC: at most
// wire.MaxActivityEntries rows (the newest), each one line.
func (s *Station) auditActivity(tx *sql.Tx, profile, session int64, a *wire.Activity) error {
	if a == nil {
		return nil
	}
	entries, earlier := a.Entries, max(a.Earlier, 0)
	if over := len(entries) - wire.MaxActivityEntries; over > 0 {
		entries, earlier = entries[over:], earlier+over
	}
	if earlier > 0 {
		if err := s.audit(tx, profile, session, EventPCActivity,
			fmt.Sprintf("the PC's list starts later: %d earlier actions were not kept on the PC", earlier)); err != nil {
			return err
		}
	}
	for _, e := range entries {
		e.Clean()
		if e.Text == "" {
			continue
		}
		detail := fmt.Sprintf("#%d at %s (PC clock): %s", e.Seq, e.At.UTC().Format("2006-01-02 15:04:05 UTC"), e.Text)
		if err := s.audit(tx, profile, session, EventPCActivity, detail); err != nil {
			return err
		}
	}
	return nil
}
