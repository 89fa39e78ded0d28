package core_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// outboxChildEnv makes the test binary act as a station whose outbox is
// killed mid-send.
const outboxChildEnv = "ADHOC_OUTBOX_CHILD_DIR"

// TestOutboxChild is the child: it runs the station's outbox on the test
// clock until it is killed.
func TestOutboxChild(t *testing.T) {
	dir := os.Getenv(outboxChildEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestOutboxKilledMidSend")
	}
	st, err := core.Open(core.Config{DataDir: dir, Now: coretest.NewClock(coretest.Start).Now})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Println("running")
	st.Run(t.Context())
}

// TestOutboxKilledMidSend kills the station (SIGKILL) while the server
// holds the invitation unanswered; after a restart it is delivered once.
func TestOutboxKilledMidSend(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	first, dir, clock, srv := openMailFolder(t)
	_, prep := coretest.MustPrepare(t, first, "Maria Tech", "maria@example.com")
	first.Close()

	held := srv.StallNextData()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOutboxChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), outboxChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // drain, so the child never blocks on its output
		for sc := bufio.NewScanner(out); sc.Scan(); {
		}
	}()
	select {
	case <-held:
	case <-time.After(3 * coretest.WaitLimit): // a second test binary starting, under -race
		cmd.Process.Kill()
		t.Fatalf("the child did not send the invitation within %v", 3*coretest.WaitLimit)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	srv.Release()

	second := coretest.OpenWith(t, dir, clock, nil)
	sess, err := second.Session(t.Context(), prep.Session.ID)
	if err != nil || sess.Email.State != core.EmailQueued || sess.Email.Attempts != 1 {
		t.Fatalf("after the kill: %+v, %v", sess.Email, err)
	}
	sub := second.Subscribe()
	run(t, second)
	clock.Advance(15 * time.Second) // the retry the claim scheduled
	second.WakeOutbox()
	waitEmail(t, second, sub, prep.Session.ID, core.EmailSent)
	sentOnce(t, second, clock, srv, time.Hour-time.Minute)
}
