package core

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/user"
	"time"

	"adhocstation/core/record"
	"adhocstation/core/remote"
)

// Connecting to a PC paired at another station of the team (a takeover,
// docs/TEAM.md): the pairing service brings the PC's live channel here
// (pairing.Server.TakeOver); ConnectTeam signs in on it exactly as Connect
// does on a PC of this station — the PC checks the password against its
// account — with the technician named with this station, and audits here.
// Wrong passwords are counted and locked per (owner, session) as Connect
// counts its own (signinlock.go), in team_signin_locks since this station
// has no session row for it: a restart of this station keeps the count and
// the lock (the PC refuses as many as it is asked; the lock is the
// station's). The remote session is recorded as this station's own
// sessions are, under no session of its own (its audit rows carry session
// 0).

// TeamTarget is a session of another station of the team, as its line on
// the Computers page shows it.
type TeamTarget struct {
	Owner      string // the owning station's hub id
	OwnerName  string // its name, when the team says it ("" : the id is used)
	Session    int64  // the session's id at the owner
	Computer   string // the PC's name ("" when not known)
	PreparedBy string // the technician who prepared it there
}

// ownerWords names the owning station in audit rows and sentences.
func (t TeamTarget) ownerWords() string {
	if t.OwnerName != "" {
		return "station " + t.OwnerName + " (" + t.Owner + ")"
	}
	return "station " + t.Owner
}

func (t TeamTarget) pc() string {
	if t.Computer != "" {
		return t.Computer
	}
	return "the PC"
}

// teamLockAge is how long after its last wrong password a row of
// team_signin_locks can still matter: the session at its owner lasts at
// most SessionLength (it began before that password) and a lock it set at
// most SignInLock.
const teamLockAge = SessionLength + SignInLock

// pruneTeamLocks deletes the rows of team_signin_locks older than
// teamLockAge. Run with each write of a wrong password rather than at
// start: rows are only added there, so the table holds at most the last
// day's guesses however long the station runs (a station may run for
// weeks without a restart); with no session row here, no trigger can
// delete them when the session ends, as signin_locks' does.
func pruneTeamLocks(ctx context.Context, tx *sql.Tx, now time.Time) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM team_signin_locks WHERE at < ?`, ms2(now.Add(-teamLockAge)))
	return err
}

// TechnicianHere names who works at this station: the one profile's name
// at a desk, else the desktop user running the station (a kiosk holds
// several profiles and no one is signed in).
func (s *Station) TechnicianHere(ctx context.Context) string {
	if ps, err := s.Profiles(ctx); err == nil && len(ps) == 1 {
		return ps[0].Name
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "desktop user " + u.Username
	}
	return "unknown"
}

// stationName is this station's name as it enrolled at the hub.
func stationName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "unnamed"
}

// ConnectTeam signs in to the PC of t, whose channel open brings here
// (pairing.Server.TakeOver), with the session's password, which the PC
// checks. The PC's tray names the technician "NAME (station THIS
// STATION)". Every attempt is audited here. Refusals as Connect's:
// *ConnectLockedError, ErrPCOffline, *WrongPasswordError (with the tries
// left), ErrSignInFailed.
func (s *Station) ConnectTeam(ctx context.Context, t TeamTarget, open remote.StreamOpener, password string) (*remote.RemoteSession, error) {
	k := teamSession(t.Owner, t.Session)
	leave, err := s.signIn.enter(ctx, k)
	if err != nil {
		return nil, err
	}
	defer leave()
	now := s.now()
	if err := s.signInLocked(ctx, k, now); err != nil {
		return nil, err
	}
	tech := s.TechnicianHere(ctx)
	signedAs := tech + " (station " + stationName() + ")"
	a := signInAudit{prefix: "team ", who: tech, pc: fmt.Sprintf("%s of %s's session %d", t.pc(), t.ownerWords(), t.Session)}
	r, err := s.signInTo(ctx, k, a, open, remote.Peer{SessionID: t.Session, Computer: t.pc(), Technician: signedAs}, password, now)
	if err != nil {
		return nil, err
	}
	// Recorded here as this station's own sessions are (the owner's
	// invitation told the user whether sessions are recorded by its
	// settings; this station's setting decides here).
	s.startRecordingFor(ctx, 0, 0, record.Meta{SessionID: t.Session, Computer: t.pc(),
		Technician: signedAs + " for " + t.ownerWords(), Started: s.now()}, r)
	s.auditTeamClose(r, tech, a.pc, s.now())
	return r, nil
}

// auditTeamClose audits the remote session's close, as auditOnClose does
// for this station's own sessions.
func (s *Station) auditTeamClose(r *remote.RemoteSession, tech, of string, signedIn time.Time) {
	r.OnClosed(func() {
		detail := fmt.Sprintf("%s closed the remote session on %s after %s", tech, of, durationWords(s.now().Sub(signedIn)))
		s.auditAfterClose(0, 0, "team remote session closed", detail, nil)
	})
}
