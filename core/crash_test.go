package core_test

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestCrashWriter is the child: it prepares and cancels sessions forever,
// printing the id of each committed one, until it is killed.
func TestCrashWriter(t *testing.T) {
	_, dir := coretest.ChildMoment(t)
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
	// Killed mid-way through writing more: after its 15th commit.
	var last int64
	coretest.KillChild(t, "TestCrashWriter", "write", dir, nil, func(line string) bool {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "committed" {
			last, _ = strconv.ParseInt(f[1], 10, 64)
		}
		return last >= 15
	})
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
