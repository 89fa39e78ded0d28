package core_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// crashWriterEnv makes the test binary act as the child that writes sessions.
const crashWriterEnv = "ADHOC_CRASH_WRITER_DIR"

// TestCrashWriter is the child: it prepares and cancels sessions forever,
// printing the id of each committed one, until it is killed.
func TestCrashWriter(t *testing.T) {
	dir := os.Getenv(crashWriterEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestCrashLosesNothing")
	}
	st, err := core.Open(core.Config{DataDir: dir})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	p, err := st.CreateProfile(t.Context(), "Crash", "crash@example.com")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	for {
		prep, err := st.Prepare(t.Context(), core.PrepareRequest{ProfileID: p.ID, UserEmail: "u@example.com",
			Password: coretest.Password, Confirm: coretest.Password})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		if err := st.Cancel(t.Context(), prep.Session.ID); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("committed", prep.Session.ID) // printed only after both commits
	}
}

func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashWriterEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A hung child is killed, which ends the reading below with too few
	// sessions: the test fails instead of waiting for go test's -timeout.
	// Hung means no commit for the whole limit, not slow: each commit
	// re-arms the guard (a busy machine took over 30 s for 15 of them).
	guard := time.AfterFunc(3*coretest.WaitLimit, func() { cmd.Process.Kill() })
	defer guard.Stop()
	var last int64
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		if len(f) == 2 && f[0] == "committed" {
			last, _ = strconv.ParseInt(f[1], 10, 64)
			guard.Reset(3 * coretest.WaitLimit)
			if last >= 15 {
				break // mid-way through writing more
			}
		} else if len(f) > 0 && f[0] == "error" {
			t.Fatalf("child: %s", lines.Text())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if last < 15 {
		t.Fatalf("child committed only %d sessions", last)
	}

	st := coretest.OpenWith(t, dir, coretest.NewClock(coretest.Start), nil)
	sessions, err := st.Sessions(t.Context(), core.SessionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, s := range sessions {
		seen[s.ID] = true
	}
	for id := int64(1); id <= last; id++ {
		if !seen[id] {
			t.Errorf("committed session %d was lost", id)
		}
	}
	if err := st.VerifyAudit(t.Context()); err != nil {
		t.Fatalf("audit chain after the crash: %v", err)
	}
}
