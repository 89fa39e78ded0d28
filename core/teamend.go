package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Ending a session at the request of another station of the team
// (docs/TEAM.md): the owner ends it exactly as its own End session now, with
// the reason naming who asked; the asking station records that it asked.

// EndAtRequest ends (or, while prepared, cancels) session id because
// station from asked, for technician (its words). It returns
// ErrSessionNotFound, or ErrSessionClosed when the session is no longer open.
func (s *Station) EndAtRequest(ctx context.Context, id int64, from, technician string) error {
	sess, err := s.Session(ctx, id)
	if err != nil {
		return err
	}
	who := "station " + from
	if technician != "" {
		who += " (technician " + technician + ")"
	}
	switch sess.State {
	case StatePrepared:
		err = s.closeBy(ctx, id, StatePrepared, StateCancelled, "cancelled at the request of "+who, EventCancelled, ErrNotPrepared)
	case StateActive:
		err = s.closeBy(ctx, id, StateActive, StateEnded, "ended at the request of "+who, EventEnded, ErrSessionClosed)
	default:
		return ErrSessionClosed
	}
	if errors.Is(err, ErrNotPrepared) { // became active meanwhile: end it as active
		return s.EndAtRequest(ctx, id, from, technician)
	}
	return err
}

// AuditTeamEndRequest records that this station asked station owner to end
// its session (the team's key), prepared there by preparedBy, for technician;
// ownerOnline is whether the owner was seen online when asked.
func (s *Station) AuditTeamEndRequest(ctx context.Context, owner, session, preparedBy, technician string, ownerOnline bool) error {
	detail := fmt.Sprintf("asked station %s to end its session %s (prepared by %s) for technician %s", owner, session, preparedBy, technician)
	if !ownerOnline {
		detail += "; that station was offline: the session ends when it next connects, or at its 24-hour end"
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		return s.audit(tx, 0, 0, "team end requested", detail)
	})
}
