//go:build !windows

package support_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/remote"
	"adhocstation/core/wire"
)

// output collects a command's output for a test to wait on.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
	new chan struct{}
}

func newOutput() *output { return &output{new: make(chan struct{}, 1)} }

func (o *output) add(b []byte) {
	o.mu.Lock()
	o.buf.Write(b)
	o.mu.Unlock()
	select {
	case o.new <- struct{}{}:
	default:
	}
}

// waitFor waits a few seconds for the output to hold want.
func (o *output) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		o.mu.Lock()
		got := o.buf.String()
		o.mu.Unlock()
		if strings.Contains(got, want) {
			return
		}
		select {
		case <-o.new:
		case <-deadline:
			t.Fatalf("the output never showed %q; it is %q", want, got)
		}
	}
}

// connected signs in to the rig's PC with the right password.
func connected(t testing.TB) (*rig, *remote.RemoteSession) {
	r := waitingRig(t)
	rs, err := r.st.Connect(context.Background(), r.prep.Session.ID, coretest.Password)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { rs.Close() })
	return r, rs
}

// fifo makes a named pipe the test writes to when the command may go on:
// the command waits on it instead of the test racing a sleep.
func fifo(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "go-on")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitRun waits a few seconds for a command's result.
func waitRun(t *testing.T, done chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the command did not end within 5 s")
		return nil
	}
}

// TestCommandOutputStreams runs a command that prints a line, waits for the
// test and prints another: the first line arrives while it still runs, and
// its exit code comes back.
func TestCommandOutputStreams(t *testing.T) {
	_, rs := connected(t)
	gate, out := fifo(t), newOutput()
	done := make(chan error, 1)
	go func() {
		done <- rs.Run(context.Background(), wire.ShellPowerShell, "echo first; read x < "+gate+"; echo second $x; exit 3", out.add)
	}()
	out.waitFor(t, "first\n")
	select {
	case err := <-done:
		t.Fatalf("the command ended (%v) before the test let it go on: output not streamed", err)
	default:
	}
	go func() { _ = os.WriteFile(gate, []byte("now\n"), 0) }()
	out.waitFor(t, "second now\n")
	var exit *remote.CommandExitError
	if err := waitRun(t, done); !errors.As(err, &exit) || exit.Code != 3 || err.Error() != "The command ended with exit code 3." {
		t.Fatalf("result %v; want exit code 3", err)
	}
	if err := rs.Run(context.Background(), wire.ShellCmd, "echo again", out.add); err != nil {
		t.Fatalf("a second command: %v", err)
	}
	out.waitFor(t, "again\n")
}

// TestCommandStop cancels a command that would never end: the PC kills it,
// Run says so, and the remote session keeps working.
func TestCommandStop(t *testing.T) {
	r, rs := connected(t)
	gate, out := fifo(t), newOutput()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rs.Run(ctx, wire.ShellPowerShell, "echo waiting; read x < "+gate, out.add) }()
	out.waitFor(t, "waiting\n")
	cancel()
	err := waitRun(t, done)
	if !errors.Is(err, remote.ErrCommandStopped) || !strings.Contains(err.Error(), "its process on the PC was ended") {
		t.Fatalf("stopped command: %v; want ErrCommandStopped", err)
	}
	if !strings.Contains(r.log.String(), "a technician stopped process") {
		t.Errorf("the PC's log does not say the process was stopped:\n%s", r.log.String())
	}
	if _, err := rs.System(context.Background()); err != nil {
		t.Errorf("the System tab after a stop: %v", err)
	}
}

// TestCommandCannotStart gets the PC's sentence for a shell it lacks, and
// a stream that does not carry a signed-in key runs nothing.
func TestCommandCannotStart(t *testing.T) {
	_, rs := connected(t)
	err := rs.Run(context.Background(), "bash", "echo hi", func([]byte) {})
	var e *core.Error
	if !errors.As(err, &e) || e.Code != "pc_refused" || !strings.Contains(err.Error(), `The command could not start on the PC: this PC does not know the shell "bash"`) {
		t.Fatalf("unknown shell: %v", err)
	}
	rs.Close()
	if err := rs.Run(context.Background(), wire.ShellCmd, "echo hi", func([]byte) {}); !errors.Is(err, remote.ErrRemoteGone) {
		t.Fatalf("a command after the remote session closed: %v; want ErrRemoteGone", err)
	}
}

// BenchmarkCommandRoundTrip runs "echo hi" on the PC over loopback: a new
// stream joined to the signed-in one, the shell started, its output back
// and its end. It reports the median and the 99th percentile.
func BenchmarkCommandRoundTrip(b *testing.B) {
	_, rs := connected(b)
	ctx := context.Background()
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		got := false
		if err := rs.Run(ctx, wire.ShellCmd, "echo hi", func([]byte) { got = true }); err != nil || !got {
			b.Fatalf("run: %v (output %v)", err, got)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}
