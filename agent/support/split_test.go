//go:build !windows

package support_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"adhocstation/agent/pipe"
	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
)

// The setup questions (consent, code) are answered only by an elevated
// administrator's process: a standard user's program that connects to the
// pipe as "setup" is refused, and nothing is paired or created.
func TestSetupFromStandardUserRefused(t *testing.T) {
	r := newRig(t, windowsPC, nil, rightCode)
	r.who = func(c net.Conn) (pipe.Caller, error) { return pipe.Caller{User: "anna", Admin: false}, nil }
	r.whoAdmin = false
	r.start()
	coretest.Await(t, r.helpers[0], "the setup helper to be sent away")
	coretest.Receive(t, r.agent.armed, "the consent question to wait for a setup helper")
	r.agent.Advance(2 * time.Minute) // nobody answers it
	if err := r.finished("support.ErrCancelled: no administrator answered"); err != support.ErrCancelled {
		t.Fatalf("Run = %v, want ErrCancelled", err)
	}
	_, _, told, accounts, _ := r.rec.snapshot()
	if len(accounts) != 0 || !slices.ContainsFunc(told, func(m support.Message) bool { return strings.Contains(m.Text, "Only an administrator") }) {
		t.Errorf("accounts %v, told %+v: want nothing created and the setup refused", accounts, told)
	}
	if s := r.session(); s.State != core.StatePrepared {
		t.Errorf("session %s, want still prepared", s.State)
	}
}

// A second copy (the download run again while a session runs) is told a
// session is already running; a second tray (another signed-in user) sees
// the same session; the session goes on.
func TestSecondCopy(t *testing.T) {
	r := waitingRig(t)
	second := newRecorder(t.TempDir(), []byte("MZ"), windowsPC, "123456789")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Sent away as refused: the second copy's setup exits 1.
	if err := coretest.Receive(t, r.helper(ctx, pipe.RoleSetup, second), "the second setup helper to be sent away"); !errors.Is(err, support.ErrRefused) {
		t.Fatalf("second setup helper = %v, want ErrRefused", err)
	}
	calls, _, told, _, _ := second.snapshot()
	if len(calls) != 0 || len(told) != 1 || !strings.Contains(told[0].Text, "already running") {
		t.Errorf("second copy: calls %v told %+v; want only the already-running notice", calls, told)
	}
	otherUser := newRecorder(t.TempDir(), []byte("MZ"), windowsPC)
	r.helper(ctx, pipe.RoleTray, otherUser)
	select {
	case s := <-otherUser.status:
		if s.State != support.TrayWaiting || s.Technician.Name != "Ana Tech" {
			t.Errorf("second tray shows %+v", s)
		}
	case <-time.After(coretest.WaitLimit):
		t.Fatalf("the second tray saw no status in %v", coretest.WaitLimit)
	}
	otherUser.end <- struct{}{} // any tray may end it
	r.checkCleanedUp(r.finished("nil after the second tray ended it"))
}

// The first run asks for consent before anything changes, installs, starts
// the service and then only answers its questions over the pipe; the
// service runs the session, and a tray in the user's session ends it.
func TestFirstRunHandsOverToTheService(t *testing.T) {
	r := newRig(t, windowsPC, nil, rightCode)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var installedBeforeService bool
	setup := &support.Setup{Sys: r.rec, UI: r.rec,
		StartService: func() error {
			_, err := os.Stat(r.rec.installedExe())
			installedBeforeService = err == nil
			r.serve(ctx) // the service starts, with nobody on its pipe yet
			return nil
		},
		Dial:   func(ctx context.Context) (net.Conn, error) { return net.Dial("unix", r.pipe) },
		Answer: pipe.AnswerSetup,
	}
	if err := setup.Run(ctx); err != nil {
		t.Fatalf("Setup.Run = %v, want nil once the service runs the session", err)
	}
	if !installedBeforeService {
		t.Error("the service was started before the app was installed")
	}
	r.helper(ctx, pipe.RoleTray, r.rec)
	r.waitStatus(support.TrayWaiting)
	calls, _, _, accounts, _ := r.rec.snapshot()
	if n := strings.Count(strings.Join(calls, ","), "consent"); n != 1 || len(accounts) != 1 {
		t.Errorf("calls %v accounts %v: want one consent question and the account made by the service", calls, accounts)
	}
	r.rec.end <- struct{}{}
	r.checkCleanedUp(r.finished("nil after the tray ended it"))
}

func TestFirstRunDeclinedInstallsNothing(t *testing.T) {
	r := newRig(t, windowsPC, nil, rightCode)
	r.rec.consent = false
	started := false
	setup := &support.Setup{Sys: r.rec, UI: r.rec, StartService: func() error { started = true; return nil },
		Dial: func(ctx context.Context) (net.Conn, error) { return nil, errBoom }, Answer: pipe.AnswerSetup}
	if err := setup.Run(context.Background()); err != support.ErrCancelled {
		t.Fatalf("Setup.Run = %v, want ErrCancelled", err)
	}
	calls, _, _, _, _ := r.rec.snapshot()
	if started || strings.Join(calls, ",") != "consent" {
		t.Errorf("calls %v, service started %v: nothing may happen after a refusal", calls, started)
	}
}

// A leftover record is resumed by the service, but a new download run
// meanwhile is told that a session is already running, rather than
// returning as if its own invitation had started: the user must not believe
// a session is theirs that another technician's record started.
func TestLeftoverRecordNotResumedSilently(t *testing.T) {
	r := waitingRig(t)
	r.cancel() // the service stops (restart); the record stays
	if err := r.finished("context.Canceled"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	fresh := newRecorder(t.TempDir(), []byte("MZ"), windowsPC, "123456789")
	joined := make(chan string, 2)
	run := r.listen(joined)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	setupDone := r.helper(ctx, pipe.RoleSetup, fresh)
	r.helper(ctx, pipe.RoleTray, r.rec)
	coretest.Receive(t, joined, "the setup helper to join")
	coretest.Receive(t, joined, "the tray helper to join")
	run(ctx)
	// Told, and failed: its setup exits 1, not 0 as if it had started.
	if err := coretest.Receive(t, setupDone, "the new download to be told"); !errors.Is(err, support.ErrRefused) {
		t.Fatalf("setup helper = %v, want ErrRefused", err)
	}
	calls, _, told, _, _ := fresh.snapshot()
	if len(calls) != 0 || len(told) == 0 || !strings.Contains(told[len(told)-1].Text, "already running") {
		t.Errorf("new download: calls %v told %+v; want no question and the already-running notice", calls, told)
	}
	r.waitStatus(support.TrayWaiting)
	r.rec.end <- struct{}{}
	r.checkCleanedUp(r.finished("nil after the tray ended the resumed session"))
}

// A connection whose caller the operating system cannot name is closed
// before anything is read from it or told to it.
func TestUnnamedCallerRefused(t *testing.T) {
	hub := pipe.NewHub(func(net.Conn) (pipe.Caller, error) { return pipe.Caller{}, errBoom })
	sock := filepath.Join(t.TempDir(), "pipe")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go hub.Serve(ln)
	t.Cleanup(hub.Close)
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(t.TempDir(), []byte("MZ"), windowsPC)
	done := make(chan error, 1)
	go func() { done <- pipe.RunHelper(context.Background(), conn, pipe.RoleTray, rec) }()
	// Cut off before or after its hello: either way an error, never nil.
	if err := coretest.Receive(t, done, "the helper to be cut off"); err == nil {
		t.Error("RunHelper = nil, want the connection refused")
	}
	hub.ShowStatus(support.Status{State: support.TrayWaiting})
	if _, _, told, _, _ := rec.snapshot(); len(told) != 0 || len(rec.status) != 0 {
		t.Errorf("an unnamed caller was told %+v", told)
	}
}
