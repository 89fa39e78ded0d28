//go:build !windows

package support_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"adhocstation/core/coretest"
	"adhocstation/core/remote"
	"adhocstation/core/wire"
)

// TestCommandStopEndsChildren: a command whose shell started a child that
// would sleep for five minutes is stopped (Stop, or the window closing its
// remote session); the child is ended with the shell, not left running.
func TestCommandStopEndsChildren(t *testing.T) {
	for name, stop := range map[string]func(context.CancelFunc, *remote.RemoteSession){
		"Stop":         func(cancel context.CancelFunc, _ *remote.RemoteSession) { cancel() },
		"WindowClosed": func(_ context.CancelFunc, rs *remote.RemoteSession) { rs.Close() },
	} {
		t.Run(name, func(t *testing.T) {
			_, rs := connected(t)
			out := newOutput()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- rs.Run(ctx, wire.ShellPowerShell, "sleep 300 & echo child $!; wait", out.add) }()
			out.waitFor(t, "\n")
			pid := childPID(t, out)
			if !running(pid) {
				t.Fatalf("the child %d is not running before the stop", pid)
			}
			stop(cancel, rs)
			if err := waitRun(t, done); err == nil {
				t.Fatal("the stopped command ended without an error")
			}
			deadline := time.Now().Add(coretest.WaitLimit)
			for running(pid) {
				if time.Now().After(deadline) {
					t.Fatalf("the child %d still runs %v after the stop", pid, coretest.WaitLimit)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func childPID(t *testing.T, out *output) int {
	t.Helper()
	out.mu.Lock()
	got := out.buf.String()
	out.mu.Unlock()
	m := regexp.MustCompile(`child (\d+)`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no child pid in %q", got)
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// running says whether pid is a live process (a zombie waiting for
// whoever reaps orphans here counts as ended).
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}
