//go:build linux

package support_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"adhocstation/agent/agenttest"
	"adhocstation/agent/applog"
	"adhocstation/agent/support"
	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

// watchedSys hands out Logons that note being used after their Close.
type watchedSys struct {
	*recorder
	mu     sync.Mutex
	logons []*watchedLogon
}

func (s *watchedSys) CheckPassword(name, password string) (support.Logon, error) {
	l, err := s.recorder.CheckPassword(name, password)
	if err != nil {
		return nil, err
	}
	w := &watchedLogon{Logon: l, closed: make(chan struct{})}
	s.mu.Lock()
	s.logons = append(s.logons, w)
	s.mu.Unlock()
	return w, nil
}

type watchedLogon struct {
	support.Logon
	mu        sync.Mutex
	isClosed  bool
	lateUses  int
	closed    chan struct{}
	closeOnce sync.Once
}

// AsAccount stands in for impersonation: on Windows a closed token's
// handle may already name another object (another token).
func (w *watchedLogon) AsAccount(fn func() error) error {
	w.mu.Lock()
	if w.isClosed {
		w.lateUses++
	}
	w.mu.Unlock()
	return fn()
}

func (w *watchedLogon) Close() error {
	w.mu.Lock()
	w.isClosed = true
	w.mu.Unlock()
	w.closeOnce.Do(func() { close(w.closed) })
	return w.Logon.Close()
}

// TestSignInEndEndsAttachedStreams: when the sign-in stream ends (the
// technician's window closed, or a station that keeps only the other
// streams open), its attached streams end with it, and the account's
// Logon is closed only after they finished: an upload cut that way still
// removes its partial file as the account, never through a closed token.
func TestSignInEndEndsAttachedStreams(t *testing.T) {
	rec := accountRecorder(t)
	sys := &watchedSys{recorder: rec}
	var logs coretest.LogBuffer
	app := &support.App{Sys: sys, UI: rec, Log: applog.New(&logs, "", 0)}
	station := agenttest.Loopback(t, app, "Tess Tech")
	pc := &screenPC{t: t, station: station}

	signIn, err := station.Open()
	if err != nil {
		t.Fatal(err)
	}
	res := pc.first(signIn, bufio.NewReader(signIn), wire.SignIn{Technician: "Tess Tech", Password: screenPassword})
	if !res.OK {
		t.Fatalf("sign-in: %+v", res)
	}
	folder := t.TempDir()
	up, r := pc.startUpload(res.Key, folder, "big.bin", 10)
	h := wire.ChunkHeader(5)
	if _, err := up.Write(append(h[:], "half."...)); err != nil {
		t.Fatal(err)
	}
	signIn.Close() // the remote session ends; the upload's stream is left open here

	var ne net.Error
	if _, err := r.ReadByte(); err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the upload's stream stayed open after its sign-in ended (%v)", err)
	}
	sys.mu.Lock()
	w := sys.logons[0]
	sys.mu.Unlock()
	coretest.Await(t, w.closed, "the Logon to be closed")
	waitEmpty(t, folder)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lateUses != 0 {
		t.Fatalf("the Logon acted as the account %d times after it was closed", w.lateUses)
	}
}

// TestSignInEndClosesAttachedStreamsFirst: the PC closes a remote
// session's attached streams before it closes the sign-in stream itself.
// The test awaits the order, not a timeout: one channel carries its frames
// in order, so once the station has read the sign-in stream's end the
// upload's close has arrived too, and a read that may not wait (its
// deadline already past) must find it. A PC that leaves the attached
// streams open fails at once here, where TestSignInEndEndsAttachedStreams
// (the technician's close, which the station cannot watch end) waits out
// a 10 s read deadline. The sign-in ends on a line longer than the PC
// reads: a read error, as the technician's close is.
func TestSignInEndClosesAttachedStreamsFirst(t *testing.T) {
	pc := loopbackPC(t)
	signIn, err := pc.station.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { signIn.Close() })
	in := bufio.NewReader(signIn)
	res := pc.first(signIn, in, wire.SignIn{Technician: "Tess Tech", Password: screenPassword})
	if !res.OK {
		t.Fatalf("sign-in: %+v", res)
	}
	folder := t.TempDir()
	up, r := pc.startUpload(res.Key, folder, "big.bin", 10)

	_ = signIn.SetDeadline(time.Now().Add(coretest.WaitLimit))
	if _, err := signIn.Write(bytes.Repeat([]byte{'x'}, wire.MaxStreamLine+1)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, in); err != nil {
		t.Fatalf("the PC did not end the sign-in stream after a line it cannot read: %v", err)
	}
	_ = up.SetReadDeadline(time.Now()) // past: the read reports only what has arrived
	var ne net.Error
	if _, err := r.ReadByte(); err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the PC closed the sign-in stream but left its upload's stream open (%v)", err)
	}
	waitEmpty(t, folder)
}

// TestUploadRefusesMoreThanItsSize: an upload that sends more bytes than
// the size it announced is refused at the chunk that goes past it, not
// written on until the station stops (filling the PC's disk).
func TestUploadRefusesMoreThanItsSize(t *testing.T) {
	pc := loopbackPC(t)
	pc.key = pc.signIn()
	folder := t.TempDir()
	up, r := pc.startUpload(pc.key, folder, "small.txt", 5)
	h := wire.ChunkHeader(10)
	if _, err := up.Write(append(h[:], "0123456789"...)); err != nil {
		t.Fatal(err)
	}
	line, err := r.ReadBytes('\n')
	var reply wire.FilesReply
	if err != nil || json.Unmarshal(line, &reply) != nil || reply.Code != wire.CodeChecksum {
		t.Fatalf("10 bytes of a 5-byte upload: %q, %v; want the PC's refusal at once", line, err)
	}
	waitEmpty(t, folder)
}

// startUpload opens an upload stream of size bytes into folder as name on
// the remote session key and reads the PC's first answer; reads on the
// stream time out after coretest.WaitLimit.
func (pc *screenPC) startUpload(key, folder, name string, size int64) (net.Conn, *bufio.Reader) {
	pc.t.Helper()
	up, err := pc.station.Open()
	if err != nil {
		pc.t.Fatal(err)
	}
	pc.t.Cleanup(func() { up.Close() })
	r := bufio.NewReader(up)
	if res := pc.first(up, r, wire.SignIn{Attach: key, Files: &wire.Files{Op: wire.FilesUpload, Path: folder, Name: name, Size: size}}); !res.OK {
		pc.t.Fatalf("upload stream: %+v", res)
	}
	var reply wire.FilesReply
	_ = up.SetReadDeadline(time.Now().Add(coretest.WaitLimit))
	if line, err := r.ReadBytes('\n'); err != nil || json.Unmarshal(line, &reply) != nil || reply.Error != "" {
		pc.t.Fatalf("upload reply %q: %v", line, err)
	}
	return up, r
}

// accountRecorder is a PC whose support account exists with the password
// the screen rig signs in with.
func accountRecorder(t testing.TB) *recorder {
	rec := newRecorder(t.TempDir(), []byte("program"), windowsPC)
	if err := rec.AddAccount(support.Account{Name: support.AccountName, Password: screenPassword}); err != nil {
		t.Fatal(err)
	}
	return rec
}

// loopbackPC is the station's end of a loopback channel to an App whose
// support account exists.
func loopbackPC(t *testing.T) *screenPC {
	rec := accountRecorder(t)
	var logs coretest.LogBuffer
	station := agenttest.Loopback(t, &support.App{Sys: rec, UI: rec, Log: applog.New(&logs, "", 0)}, "Tess Tech")
	return &screenPC{t: t, station: station}
}
