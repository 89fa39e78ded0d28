// Package remote is the station's end of a remote session: once the PC
// accepted the technician's password (core's Station.Connect, which keeps
// the lock and the audit), the System tab, commands, files, chat and the
// screen, each on a stream of the PC's live channel. It imports neither
// core nor SQLite (a test checks it), so the remote session window needs
// no database.
package remote

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"adhocstation/core/refusal"
	"adhocstation/core/wire"
)

// signInWait bounds the PC's answer to a sign-in.
const signInWait = 15 * time.Second

// StreamOpener opens a stream to the PC on its live channel (a yamux
// session in core/pairing).
type StreamOpener interface {
	Open() (net.Conn, error)
}

// Peer says whose remote session it is.
type Peer struct {
	SessionID  int64
	Computer   string // the PC's name
	Technician string
}

// SignIn sends the technician's password on conn, a stream open opened,
// and returns the remote session once the PC accepted it. Otherwise conn
// is closed and the PC's answer (res.OK false) or err (the PC did not
// answer) says why; counting and auditing that is core's.
func SignIn(ctx context.Context, open StreamOpener, conn net.Conn, p Peer, password string) (*RemoteSession, wire.SignInResult, error) {
	in := bufio.NewReaderSize(conn, 64<<10) // the stream's one reader, kept by the RemoteSession
	res, err := signIn(ctx, conn, in, wire.SignIn{Technician: p.Technician, Password: password})
	if err != nil || !res.OK {
		conn.Close()
		return nil, res, err
	}
	return &RemoteSession{SessionID: p.SessionID, Computer: p.Computer, Technician: p.Technician, conn: conn,
		open: open, key: res.Key, streams: res.Streams, r: in}, res, nil
}

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
	running    sync.Map   // open streams (a *Screen's maps to it), closed with r
	mu         sync.Mutex // one request at a time on the stream
	r          *bufio.Reader
	rec        atomic.Pointer[Recorder] // the session's recording (record.go)
	recMu      sync.Mutex               // a view's start against Close (screen.go)
	onClosed   atomic.Pointer[func()]
}

// OnClosed makes Close call f once, after the recording's end: core audits
// the session's close with it. f must not wait on the disk (Close is
// called from the window's goroutine).
func (r *RemoteSession) OnClosed(f func()) { r.onClosed.Store(&f) }

// ErrRemoteGone refuses a request whose remote session is closed.
var ErrRemoteGone = refusal.New("remote_gone", "The connection to the PC was closed. Close this window and connect again.")

// System asks the PC for its System tab. Refusals: ErrRemoteGone (the
// stream or channel closed, or the PC did not answer in 15 s), or the PC's
// own sentence as a *refusal.Error with the code "pc_refused".
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
		return wire.SystemInfo{}, &refusal.Error{Code: "pc_refused", Message: wire.CleanShown(out.Error)}
	}
	out.System.Clean()
	return *out.System, nil
}

// Close ends the remote session (not the support session).
func (r *RemoteSession) Close() error {
	r.recMu.Lock()
	if !r.closed.Swap(true) {
		// Open views end in the recording before it is sealed, whatever
		// the order the window closes them in.
		r.running.Range(func(_, v any) bool {
			if s, ok := v.(*Screen); ok {
				s.recordEnd()
			}
			return true
		})
		r.recorder().Close()
		if f := r.onClosed.Load(); f != nil {
			(*f)()
		}
	}
	r.recMu.Unlock()
	// A command's stream closing makes the PC kill its process.
	r.running.Range(func(c, _ any) bool {
		c.(net.Conn).Close()
		return true
	})
	return r.conn.Close()
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
