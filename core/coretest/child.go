package coretest

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// childEnv hands a child of KillChild its moment and folder.
const childEnv = "ADHOC_TEST_CHILD"

// ChildMoment is, in a child KillChild started, the moment and the folder
// it was given; in any other run it skips the test.
func ChildMoment(tb testing.TB) (moment, dir string) {
	moment, dir, ok := strings.Cut(os.Getenv(childEnv), ":")
	if !ok {
		tb.Skip("only runs as the child of a test that kills it")
	}
	return moment, dir
}

// KillChild re-runs this test binary as a child that runs only the test
// named, which reads moment and dir with ChildMoment, with env added to its
// environment, and SIGKILLs it at the moment the child names: each line the child prints goes to at, and the child is
// killed once at returns true. A line whose first word is "error" fails the
// test. The kill waits on the child's own words, never on a timed sleep.
//
// A hung child (no line for 3×WaitLimit: a second test binary starting
// under -race is slow, not hung) is killed too, which ends the reading:
// KillChild then returns false, as it does when the child ends before its
// moment, so the test fails instead of waiting for go test's -timeout.
func KillChild(tb testing.TB, test, moment, dir string, env []string, at func(line string) bool) bool {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), childEnv+"="+moment+":"+dir), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	guard := time.AfterFunc(3*WaitLimit, func() { cmd.Process.Kill() })
	defer func() {
		guard.Stop()
		cmd.Process.Kill() // SIGKILL: the moment is now
		cmd.Wait()
	}()
	for lines := bufio.NewScanner(out); lines.Scan(); {
		guard.Reset(3 * WaitLimit)
		if f := strings.Fields(lines.Text()); len(f) > 0 && f[0] == "error" {
			tb.Fatalf("child %s: %s", test, lines.Text())
		}
		if at(lines.Text()) {
			return true
		}
	}
	return false
}
