package core

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/user"
	"sync"
	"time"

	"adhocstation/core/record"
	"adhocstation/core/remote"
	"adhocstation/core/wire"
)

// Connecting to a PC paired at another station of the team (a takeover,
// docs/TEAM.md): the pairing service brings the PC's live channel here
// (pairing.Server.TakeOver); ConnectTeam signs in on it exactly as Connect
// does on a PC of this station — the PC checks the password against its
// account — with the technician named with this station, and audits here.
// This station has no session row for it, so wrong passwords are counted
// in memory per (owner, session): a restart of this station starts the
// count again, which the owner's own count does not (its PC refuses as
// many as it is asked; the lock is the station's). The remote session is
// recorded as this station's own sessions are, under no session of its
// own (its audit rows carry session 0).

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

// teamLocks counts wrong passwords per session of another station.
type teamLocks struct {
	mu sync.Mutex
	m  map[teamLockKey]*teamLock
}

type teamLockKey struct {
	owner   string
	session int64
}

type teamLock struct {
	turn  chan struct{} // one sign-in at a time, as signInGate
	wrong int
	until time.Time
}

func (l *teamLocks) get(k teamLockKey) *teamLock {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[teamLockKey]*teamLock{}
	}
	t := l.m[k]
	if t == nil {
		t = &teamLock{turn: make(chan struct{}, 1)}
		l.m[k] = t
	}
	return t
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
	lock := s.teamLocks.get(teamLockKey{t.Owner, t.Session})
	select {
	case lock.turn <- struct{}{}:
		defer func() { <-lock.turn }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	now := s.now()
	if now.Before(lock.until) {
		return nil, &ConnectLockedError{Until: lock.until, Now: now}
	}
	if open == nil {
		return nil, ErrPCOffline
	}
	conn, err := open.Open()
	if err != nil {
		return nil, ErrPCOffline
	}
	tech := s.TechnicianHere(ctx)
	signedAs := tech + " (station " + stationName() + ")"
	of := fmt.Sprintf("%s of %s's session %d", t.pc(), t.ownerWords(), t.Session)
	r, res, err := remote.SignIn(ctx, open, conn, remote.Peer{SessionID: t.Session, Computer: t.pc(), Technician: signedAs}, password)
	switch {
	case err != nil:
		s.log.Error("sign-in to a PC of another station failed", "owner", t.Owner, "session", t.Session, "err", err)
		return nil, s.auditTeam(ctx, "team remote sign-in failed", fmt.Sprintf("%s could not sign in to %s: the PC did not answer (%v)", tech, of, err), ErrPCOffline)
	case res.OK:
		lock.wrong = 0
		if err := s.auditTeam(ctx, "team remote sign-in", fmt.Sprintf("%s signed in to %s (the PC accepted the password)", tech, of), nil); err != nil {
			r.Close()
			return nil, err
		}
		// Recorded here as this station's own sessions are (the owner's
		// invitation told the user whether sessions are recorded by its
		// settings; this station's setting decides here).
		s.startRecordingFor(ctx, 0, 0, record.Meta{SessionID: t.Session, Computer: t.pc(),
			Technician: signedAs + " for " + t.ownerWords(), Started: s.now()}, r)
		s.auditTeamClose(r, tech, of, s.now())
		return r, nil
	case res.Code != wire.CodeWrongPassword:
		return nil, s.auditTeam(ctx, "team remote sign-in failed", fmt.Sprintf("%s could not sign in to %s: %s", tech, of, res.Message), ErrSignInFailed)
	}
	lock.wrong++
	left := MaxSignInTries - lock.wrong
	var refused error = &WrongPasswordError{TriesLeft: left}
	detail := fmt.Sprintf("%s typed a wrong password for %s (%d tries left)", tech, of, left)
	if left <= 0 {
		lock.wrong, lock.until = 0, now.Add(SignInLock)
		refused = &ConnectLockedError{Until: lock.until, Now: now}
		detail = fmt.Sprintf("%s typed a wrong password for %s for the %dth time: connecting is locked for 5 minutes", tech, of, MaxSignInTries)
	}
	return nil, s.auditTeam(ctx, "team remote sign-in refused", detail, refused)
}

// auditTeam writes a row about another station's session (no profile or
// session of this station) and returns refused, or the database's error.
func (s *Station) auditTeam(ctx context.Context, event, detail string, refused error) error {
	err := s.write(ctx, func(tx *sql.Tx) error { return s.audit(tx, 0, 0, event, detail) })
	if err != nil {
		return err
	}
	return refused
}

// auditTeamClose audits the remote session's close, as auditOnClose does
// for this station's own sessions.
func (s *Station) auditTeamClose(r *remote.RemoteSession, tech, of string, signedIn time.Time) {
	r.OnClosed(func() {
		detail := fmt.Sprintf("%s closed the remote session on %s after %s", tech, of, durationWords(s.now().Sub(signedIn)))
		s.auditAfterClose(0, 0, "team remote session closed", detail, nil)
	})
}
