//go:build !windows

package support_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"

	"adhocstation/agent/pipe"
	"adhocstation/agent/support"
	"adhocstation/core/coretest"
)

// Setup's exit code comes from what the service finally tells it: a
// refusal is an error (exit 1), no code entered is a cancel (exit 2); only
// a session the service runs is nil (exit 0).
func TestSetupOutcomeFollowsTheService(t *testing.T) {
	ubuntu := windowsPC
	ubuntu.OSName = "Ubuntu"
	for _, tc := range []struct {
		name string
		rig  func(t *testing.T) *rig
		want error
		code int
	}{
		{"refused", func(t *testing.T) *rig { return newRig(t, ubuntu, nil, rightCode) }, support.ErrRefused, 1},
		{"no code", func(t *testing.T) *rig { return newRig(t, windowsPC, nil, func(string) []string { return nil }) },
			support.ErrCancelled, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.rig(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			setup := &support.Setup{Sys: r.rec, UI: r.rec,
				StartService: func() error { r.serve(ctx); return nil },
				Dial:         func(ctx context.Context) (net.Conn, error) { return net.Dial("unix", r.pipe) },
				Answer:       pipe.AnswerSetup,
			}
			err := setup.Run(ctx)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Setup.Run = %v, want %v", err, tc.want)
			}
			if code := exitCode(err); code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			if err := r.finished("the service's refusal"); !errors.Is(err, tc.want) {
				t.Errorf("service Run = %v, want %v", err, tc.want)
			}
		})
	}
}

// exitCode is runSetup's mapping (agent/main_windows.go).
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, support.ErrCancelled):
		return 2
	}
	return 1
}

// A tray told the session ended is done (nil); told of a failure it
// returns the failure.
func TestTrayFinalMessages(t *testing.T) {
	for _, tc := range []struct {
		msg  support.Message
		want error
	}{
		{support.Message{Text: "The support session ended.", Final: true}, nil},
		{support.Message{Text: "The account could not be deleted.", Error: true, Final: true}, support.ErrRefused},
	} {
		hub := pipe.NewHub(func(net.Conn) (pipe.Caller, error) { return pipe.Caller{User: "anna", Console: true}, nil })
		joined := make(chan string, 1)
		hub.OnJoin = func(role string, _ pipe.Caller) { joined <- role }
		path := filepath.Join(t.TempDir(), "pipe")
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		go hub.Serve(ln)
		conn, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		rec := newRecorder(t.TempDir(), []byte("MZ"), windowsPC)
		done := make(chan error, 1)
		go func() { done <- pipe.RunHelper(context.Background(), conn, pipe.RoleTray, rec) }()
		coretest.Receive(t, joined, "the tray to join")
		hub.Tell(tc.msg)
		err = coretest.Receive(t, done, "the tray to return")
		if (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("told %+v: RunHelper = %v, want %v", tc.msg, err, tc.want)
		}
		hub.Close()
	}
}
