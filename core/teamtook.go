package core

import (
	"context"
	"database/sql"
	"fmt"
)

// A station of the team connected to the PC of one of this station's
// sessions (a takeover, docs/TEAM.md): the owner records it in the
// session's audit, as it would its own technician's connection.

// TeamTakeover is what the owner knows of a takeover: the taking station
// (its hub id and, when known, its name), who connected there, the PC's
// name as that station gave it, and when.
type TeamTakeover struct {
	Taker, TakerName string
	Technician       string
	Computer         string
}

// AuditTeamTakeover records in session id's audit that another station of
// the team connected to its PC. It returns ErrSessionNotFound for an
// unknown session; a closed one is still recorded (the PC may have been
// reached just before the end).
func (s *Station) AuditTeamTakeover(ctx context.Context, id int64, t TeamTakeover) error {
	sess, err := s.Session(ctx, id)
	if err != nil {
		return err
	}
	who := "station " + t.Taker
	if t.TakerName != "" && t.TakerName != t.Taker {
		who += " (" + t.TakerName + ")"
	}
	if t.Technician != "" {
		who += ", technician " + t.Technician + ","
	}
	pc := t.Computer
	if sess.Computer != nil && sess.Computer.Hostname != "" {
		pc = sess.Computer.Hostname // this station's own record of the PC
	}
	if pc == "" {
		pc = "the PC"
	} else {
		pc = "the PC " + pc
	}
	detail := fmt.Sprintf("%s connected to %s of session %d (prepared by %s) through the team; this station closes its live channel to the PC, so the PC reaches that station through the hub", who, pc, id, sess.ProfileName)
	return s.write(ctx, func(tx *sql.Tx) error {
		return s.audit(tx, sess.ProfileID, id, "team takeover", detail)
	})
}
