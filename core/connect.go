package core

import (
	"context"
	"fmt"
	"time"

	"adhocstation/core/refusal"
	"adhocstation/core/remote"
	"adhocstation/core/wire"
)

// Connecting to a paired PC: the station opens a stream on the PC's live
// channel and sends the session's password; the PC checks it against the
// hidden account itself. Five wrong passwords lock connecting to that PC
// for five minutes, also across a station restart (signinlock.go). What
// the remote session does once signed in is core/remote's.

const (
	// MaxSignInTries wrong passwords in a row lock connecting to a PC.
	MaxSignInTries = 5
	// SignInLock is how long connecting stays locked after them.
	SignInLock = 5 * time.Minute
)

// Refusals of Connect.
var (
	ErrPCOffline    = refusal.New("pc_offline", "The PC is offline: its Support Session app is not connected to the station. Connect again once the Computers page shows it online.")
	ErrSessionEnded = refusal.New("session_ended", "This support session is over (ended or expired), so its PC removed the support account. Prepare a new session if the user still needs help.")
	ErrSignInFailed = refusal.New("sign_in_failed", "The PC could not check the password. Try again; if it keeps failing, the PC's log says why.")
)

// WrongPasswordError refuses a sign-in whose password the PC's account
// refused. It matches ErrWrongPassword.
type WrongPasswordError struct{ TriesLeft int }

// ErrWrongPassword is what every WrongPasswordError matches.
var ErrWrongPassword = refusal.New("wrong_password", "The PC refused that password. Type the password you chose for this session.")

func (e *WrongPasswordError) Error() string {
	tries := "tries"
	if e.TriesLeft == 1 {
		tries = "try"
	}
	return fmt.Sprintf("The PC refused that password. Type the password you chose for this session — %d %s left before connecting is locked for 5 minutes.", e.TriesLeft, tries)
}
func (e *WrongPasswordError) Is(target error) bool { return target == ErrWrongPassword }
func (e *WrongPasswordError) RefusalCode() string  { return ErrWrongPassword.Code }

// ConnectLockedError refuses connecting after MaxSignInTries wrong
// passwords, until Until. It matches ErrConnectLocked.
type ConnectLockedError struct{ Until, Now time.Time }

// ErrConnectLocked is what every ConnectLockedError matches.
var ErrConnectLocked = refusal.New("connect_locked", "Connecting to this PC is locked for 5 minutes after 5 wrong passwords.")

func (e *ConnectLockedError) Error() string {
	left := max(e.Until.Sub(e.Now).Round(time.Second), time.Second)
	return fmt.Sprintf("Connecting to this PC is locked after 5 wrong passwords. Try again in %v with the password you chose for this session.", left)
}
func (e *ConnectLockedError) Is(target error) bool { return target == ErrConnectLocked }
func (e *ConnectLockedError) RefusalCode() string  { return ErrConnectLocked.Code }

// Connect signs in to the PC of an active session with the session's
// password, which the PC checks. Every attempt is audited. Refusals:
// ErrSessionNotFound, ErrSessionEnded, *ConnectLockedError, ErrPCOffline,
// *WrongPasswordError (with the tries left), ErrSignInFailed.
func (s *Station) Connect(ctx context.Context, sessionID int64, password string) (*remote.RemoteSession, error) {
	k := ownSession(sessionID)
	leave, err := s.signIn.enter(ctx, k)
	if err != nil {
		return nil, err
	}
	defer leave()
	sess, err := s.Session(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if sess.State != StateActive || !now.Before(sess.ExpiresAt) || sess.Computer == nil {
		return nil, ErrSessionEnded
	}
	if err := s.signInLocked(ctx, k, now); err != nil {
		return nil, err
	}
	a := signInAudit{profileID: sess.ProfileID, sessionID: sess.ID, who: sess.ProfileName, pc: sess.Computer.Hostname}
	r, err := s.signInTo(ctx, k, a, s.opener(sessionID), remote.Peer{SessionID: sessionID, Computer: a.pc, Technician: sess.ProfileName}, password, now)
	if err != nil {
		return nil, err
	}
	s.startRecording(ctx, sess, r)
	s.auditOnClose(sess, r, s.now())
	return r, nil
}

// signInTo is the part Connect and ConnectTeam share, run inside k's turn
// (signInGate) once k is known not to be locked: it asks the PC behind
// open to sign in peer with password (the PC checks it), audits the answer
// as a says, forgets k's wrong passwords at the right one and counts a
// wrong one.
func (s *Station) signInTo(ctx context.Context, k signInKey, a signInAudit, open remote.StreamOpener, peer remote.Peer, password string, now time.Time) (*remote.RemoteSession, error) {
	if open == nil {
		return nil, ErrPCOffline
	}
	conn, err := open.Open()
	if err != nil {
		return nil, ErrPCOffline
	}
	r, res, err := remote.SignIn(ctx, open, conn, peer, password)
	switch {
	case err != nil:
		s.log.Error("sign-in to a PC failed", "owner", k.owner, "session", k.session, "err", err)
		return nil, s.signInFailed(ctx, a, fmt.Sprintf("the PC did not answer (%v)", err), ErrPCOffline)
	case res.OK:
		if err := s.signedIn(ctx, k, a); err != nil {
			r.Close()
			return nil, err
		}
		return r, nil
	case res.Code != wire.CodeWrongPassword:
		return nil, s.signInFailed(ctx, a, res.Message, ErrSignInFailed)
	}
	return nil, s.wrongPassword(ctx, k, a, now)
}
