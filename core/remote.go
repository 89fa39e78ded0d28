package core

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"adhocstation/core/wire"
)

// Connecting to a paired PC: the station opens a stream on the PC's live
// channel and sends the session's password; the PC checks it against the
// hidden account itself. Five wrong passwords lock connecting to that PC
// for five minutes, also across a station restart (signinlock.go).

const (
	// MaxSignInTries wrong passwords in a row lock connecting to a PC.
	MaxSignInTries = 5
	// SignInLock is how long connecting stays locked after them.
	SignInLock = 5 * time.Minute
	// signInWait bounds the PC's answer to a sign-in.
	signInWait = 15 * time.Second
)

// Refusals of Connect.
var (
	ErrPCOffline    = refusal("pc_offline", "The PC is offline: its Support Session app is not connected to the station. Connect again once the Computers page shows it online.")
	ErrSessionEnded = refusal("session_ended", "This support session is over (ended or expired), so its PC removed the support account. Prepare a new session if the user still needs help.")
	ErrSignInFailed = refusal("sign_in_failed", "The PC could not check the password. Try again; if it keeps failing, the PC's log says why.")
)

// WrongPasswordError refuses a sign-in whose password the PC's account
// refused. It matches ErrWrongPassword.
type WrongPasswordError struct{ TriesLeft int }

// ErrWrongPassword is what every WrongPasswordError matches.
var ErrWrongPassword = refusal("wrong_password", "The PC refused that password. Type the password you chose for this session.")

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
var ErrConnectLocked = refusal("connect_locked", "Connecting to this PC is locked for 5 minutes after 5 wrong passwords.")

func (e *ConnectLockedError) Error() string {
	left := max(e.Until.Sub(e.Now).Round(time.Second), time.Second)
	return fmt.Sprintf("Connecting to this PC is locked after 5 wrong passwords. Try again in %v with the password you chose for this session.", left)
}
func (e *ConnectLockedError) Is(target error) bool { return target == ErrConnectLocked }
func (e *ConnectLockedError) RefusalCode() string  { return ErrConnectLocked.Code }

// RemoteSession is one technician's connection to a PC. Close it when the
// window closes: the PC's tray then says the technician left.
type RemoteSession struct {
	SessionID  int64
	Computer   string // the PC's name
	Technician string
	conn       net.Conn
	open       StreamOpener // for a stream per command
	key        string       // joins those streams to this sign-in
	streams    []string     // the attached streams the PC's app serves (oldapp.go)
	closed     atomic.Bool
	running    sync.Map   // the streams of running commands, closed with r
	mu         sync.Mutex // one request at a time on the stream
	r          *bufio.Reader
}

// ErrRemoteGone refuses a request whose remote session is closed.
var ErrRemoteGone = refusal("remote_gone", "The connection to the PC was closed. Close this window and connect again.")

// System asks the PC for its System tab. Refusals: ErrRemoteGone (the
// stream or channel closed, or the PC did not answer in 15 s), or the PC's
// own sentence as an *Error with the code "pc_refused".
func (r *RemoteSession) System(ctx context.Context) (wire.SystemInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = r.conn.SetDeadline(streamDeadline(ctx))
	defer r.conn.SetDeadline(time.Time{})
	b, _ := json.Marshal(wire.Request{Op: wire.OpSystem})
	if _, err := r.conn.Write(append(b, '\n')); err != nil {
		return wire.SystemInfo{}, ErrRemoteGone
	}
	line, err := r.r.ReadSlice('\n')
	if err != nil {
		r.conn.Close() // a late answer would be read as the next one's
		return wire.SystemInfo{}, ErrRemoteGone
	}
	var out wire.Reply
	if err := json.Unmarshal(line, &out); err != nil {
		return wire.SystemInfo{}, ErrRemoteGone
	}
	if out.Error != "" || out.System == nil {
		return wire.SystemInfo{}, &Error{Code: "pc_refused", Message: wire.CleanShown(out.Error)}
	}
	out.System.Clean()
	return *out.System, nil
}

// Close ends the remote session (not the support session).
func (r *RemoteSession) Close() error {
	r.closed.Store(true)
	// A command's stream closing makes the PC kill its process.
	r.running.Range(func(c, _ any) bool {
		c.(net.Conn).Close()
		return true
	})
	return r.conn.Close()
}

// Connect signs in to the PC of an active session with the session's
// password, which the PC checks. Every attempt is audited. Refusals:
// ErrSessionNotFound, ErrSessionEnded, *ConnectLockedError, ErrPCOffline,
// *WrongPasswordError (with the tries left), ErrSignInFailed.
func (s *Station) Connect(ctx context.Context, sessionID int64, password string) (*RemoteSession, error) {
	leave, err := s.signIn.enter(ctx, sessionID)
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
	until, err := s.connectLockedUntil(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	if now.Before(until) {
		return nil, &ConnectLockedError{Until: until, Now: now}
	}
	open := s.opener(sessionID)
	if open == nil {
		return nil, ErrPCOffline
	}
	conn, err := open.Open()
	if err != nil {
		return nil, ErrPCOffline
	}
	in := bufio.NewReaderSize(conn, 64<<10) // the stream's one reader, kept by the RemoteSession
	res, err := signIn(ctx, conn, in, wire.SignIn{Technician: sess.ProfileName, Password: password})
	pc := sess.Computer.Hostname
	switch {
	case err != nil:
		conn.Close()
		s.log.Error("sign-in to a PC failed", "session", sessionID, "err", err)
		return nil, s.auditSignIn(ctx, sess, "remote sign-in failed", fmt.Sprintf("%s could not sign in to %s: the PC did not answer (%v)", sess.ProfileName, pc, err), ErrPCOffline)
	case res.OK:
		err := s.write(ctx, func(tx *sql.Tx) error {
			if err := forgetWrongPasswords(ctx, tx, sessionID); err != nil {
				return err
			}
			return s.audit(tx, sess.ProfileID, sess.ID, "remote sign-in", sess.ProfileName+" signed in to "+pc+" (the PC accepted the password)")
		})
		if err != nil {
			conn.Close()
			return nil, err
		}
		return &RemoteSession{SessionID: sessionID, Computer: pc, Technician: sess.ProfileName, conn: conn,
			open: open, key: res.Key, streams: res.Streams, r: in}, nil
	case res.Code != wire.CodeWrongPassword:
		conn.Close()
		return nil, s.auditSignIn(ctx, sess, "remote sign-in failed", fmt.Sprintf("%s could not sign in to %s: %s", sess.ProfileName, pc, res.Message), ErrSignInFailed)
	}
	conn.Close()
	var refusal error
	err = s.write(ctx, func(tx *sql.Tx) error {
		left, until, err := countWrongPassword(ctx, tx, sessionID, now)
		if err != nil {
			return err
		}
		refusal = &WrongPasswordError{TriesLeft: left}
		detail := fmt.Sprintf("%s typed a wrong password for %s (%d tries left)", sess.ProfileName, pc, left)
		if left == 0 {
			refusal = &ConnectLockedError{Until: until, Now: now}
			detail = fmt.Sprintf("%s typed a wrong password for %s for the %dth time: connecting is locked for 5 minutes", sess.ProfileName, pc, MaxSignInTries)
		}
		return s.audit(tx, sess.ProfileID, sess.ID, "remote sign-in refused", detail)
	})
	if err != nil {
		return nil, err
	}
	return nil, refusal
}

// auditSignIn writes the attempt's audit row and returns refusal (or the
// database's error).
func (s *Station) auditSignIn(ctx context.Context, sess Session, event, detail string, refusal error) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return s.audit(tx, sess.ProfileID, sess.ID, event, detail)
	})
	if err != nil {
		return err
	}
	return refusal
}

// attach opens a stream joined to this sign-in with req (its Attach set
// here), reading through a buffer of size bytes, and returns it once the
// PC accepted it. It is closed with the remote session; closeStream it
// when done. A refused stream is closed: ErrRemoteGone, with the PC's
// answer for a caller that shows its sentence, or the older app's refusal
// (oldapp.go).
func (r *RemoteSession) attach(ctx context.Context, req wire.SignIn, size int) (net.Conn, *bufio.Reader, wire.SignInResult, error) {
	conn, err := r.open.Open()
	if err != nil {
		return nil, nil, wire.SignInResult{}, ErrRemoteGone
	}
	r.running.Store(conn, nil)
	if r.closed.Load() { // closed while opening: Close did not see conn
		r.closeStream(conn)
		return nil, nil, wire.SignInResult{}, ErrRemoteGone
	}
	in := bufio.NewReaderSize(conn, size)
	req.Attach = r.key
	res, err := signIn(ctx, conn, in, req)
	if err != nil || !res.OK {
		r.closeStream(conn)
		if old := r.attachRefused(streamKind(req), res, err); old != nil {
			return nil, nil, wire.SignInResult{}, old
		}
		return nil, nil, res, ErrRemoteGone
	}
	return conn, in, res, nil
}

func (r *RemoteSession) closeStream(conn net.Conn) {
	r.running.Delete(conn)
	conn.Close()
}

// streamDeadline is when the PC must have answered a request on a stream:
// signInWait from now, or ctx's deadline if that comes first.
func streamDeadline(ctx context.Context) time.Time {
	deadline := time.Now().Add(signInWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return deadline
}

// signIn sends a stream's first line (a sign-in, or the attach of a
// command stream) and reads the PC's answer from in: the reader the stream
// goes on using, since a reader of its own would swallow whatever the PC
// sends right after the answer.
func signIn(ctx context.Context, conn net.Conn, in *bufio.Reader, req wire.SignIn) (wire.SignInResult, error) {
	var out wire.SignInResult
	_ = conn.SetDeadline(streamDeadline(ctx))
	b, err := json.Marshal(req)
	if err != nil {
		return out, err
	}
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return out, err
	}
	line, err := in.ReadSlice('\n')
	if err != nil {
		return out, err
	}
	if len(line) > wire.MaxStreamLine {
		return out, fmt.Errorf("the PC's answer is longer than %d bytes", wire.MaxStreamLine)
	}
	if err := json.Unmarshal(line, &out); err != nil {
		return out, err
	}
	out.Message = wire.CleanShown(out.Message) // audited and shown
	_ = conn.SetDeadline(time.Time{})
	return out, nil
}
