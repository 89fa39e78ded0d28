package core_test

// Faults (issue 18, docs/RELIABILITY.md "## Faults"): the station killed at
// a named moment, its data folder on a full disk, its clock jumping. The
// kills re-run the station's code in a child process (this test binary
// again) that prints "ready" at the moment; the parent then SIGKILLs it —
// no timed sleep decides when — and reopens the same data folder.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// TestFaultChild is the child: it does the work up to the moment named in
// its environment, prints what the parent needs and "ready", then waits to
// be killed.
func TestFaultChild(t *testing.T) {
	moment, dir := coretest.ChildMoment(t)
	fail := func(err error) { fmt.Println("error", err); os.Exit(2) }
	st, err := core.Open(core.Config{DataDir: dir, Now: coretest.NewClock(coretest.Start).Now})
	if err != nil {
		fail(err)
	}
	p, err := st.CreateProfile(t.Context(), "Kill Tech", "kill@example.com")
	if err != nil {
		fail(err)
	}
	prep, err := st.Prepare(t.Context(), core.PrepareRequest{ProfileID: p.ID, UserEmail: "user@example.com",
		Password: coretest.Password, Confirm: coretest.Password})
	if err != nil {
		fail(err)
	}
	fmt.Println("prepared", prep.Session.ID, prep.Session.Token)
	fmt.Println("code", prep.Code) // may hold a space: the parent joins the fields
	if moment == "pair" {
		// Pair commits, then the station dies before its answer reaches
		// the PC: the worst moment of a pairing.
		paired, err := st.Pair(t.Context(), core.PairRequest{Token: prep.Session.Token, Code: prep.Code,
			RemoteAddr: "192.0.2.7:50123", Facts: coretest.WindowsPC})
		if err != nil {
			fail(err)
		}
		fmt.Println("paired", paired.AgentKey)
	}
	fmt.Println("ready")
	select {} // killed here
}

// killChild runs TestFaultChild at moment on a fresh data folder, SIGKILLs
// it once it says ready, and reopens the folder a minute later, checking
// the audit chain. It returns the reopened station and the fields of the
// child's lines by their first word.
func killChild(t *testing.T, moment string) (*core.Station, map[string][]string) {
	t.Helper()
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	t.Setenv(core.KeyringEnv, "off")
	dir := t.TempDir()
	said := map[string][]string{}
	coretest.KillChild(t, "TestFaultChild", moment, dir, nil, func(line string) bool {
		if f := strings.Fields(line); len(f) > 0 {
			said[f[0]] = f[1:]
		}
		return line == "ready"
	})
	if _, ok := said["ready"]; !ok {
		t.Fatalf("the child never reached %s: %v", moment, said)
	}
	st := coretest.OpenWith(t, dir, coretest.NewClock(coretest.Start.Add(time.Minute)), nil)
	if err := st.VerifyAudit(t.Context()); err != nil {
		t.Fatalf("audit chain after the kill: %v", err)
	}
	return st, said
}

// TestFaultKillAfterPrepare: the station is killed right after a session
// was prepared (the code panel shown, the email not yet sent); after the
// restart the session is there, the audit chain verifies and the PC pairs
// with the same link and code.
func TestFaultKillAfterPrepare(t *testing.T) {
	st, said := killChild(t, "prepare")
	p, code := said["prepared"], strings.Join(said["code"], " ")
	sessions, err := st.Sessions(t.Context(), core.SessionFilter{})
	if err != nil || len(sessions) != 1 || fmt.Sprint(sessions[0].ID) != p[0] || sessions[0].State != core.StatePrepared {
		t.Fatalf("after the kill: %+v, %v; want session %s waiting", sessions, err, p[0])
	}
	paired, err := st.Pair(t.Context(), core.PairRequest{Token: p[1], Code: code, RemoteAddr: "192.0.2.7:50123", Facts: coretest.WindowsPC})
	if err != nil || paired.Password != coretest.Password || paired.Session.State != core.StateActive {
		t.Fatalf("pairing the prepared session after the restart: %+v, %v", paired.Session, err)
	}
}

// TestFaultKillDuringPairing: the station commits a pairing and is killed
// before its answer reaches the PC. After the restart the session is
// active with its computer, the agent key works, the audit chain verifies;
// the PC, which never got its key, asks again with the same link and code
// and is told the invitation was used (it is not paired twice).
func TestFaultKillDuringPairing(t *testing.T) {
	st, said := killChild(t, "pair")
	p, code, key := said["prepared"], strings.Join(said["code"], " "), said["paired"][0]
	s, err := st.Heartbeat(t.Context(), key)
	if err != nil || s.State != core.StateActive || s.Computer == nil || s.Computer.Hostname != coretest.WindowsPC.Hostname {
		t.Fatalf("the committed pairing after the kill: %+v, %v", s, err)
	}
	again, err := st.Pair(t.Context(), core.PairRequest{Token: p[1], Code: code, RemoteAddr: "192.0.2.7:50124", Facts: coretest.WindowsPC})
	var ce *core.Error
	if err == nil || !errors.As(err, &ce) {
		t.Fatalf("pairing the used invitation again: %+v, %v; want a refusal", again.Session, err)
	}
	t.Logf("the PC asking again is told: %s", err)
	if s, _ := st.Session(t.Context(), s.ID); s.State != core.StateActive {
		t.Fatalf("the refused second pairing changed the session: %s", s.State)
	}
}

// TestFaultDataFolderFull: the station's data folder is on a 2 MiB tmpfs
// that fills up. Preparing a session is refused with a sentence, nothing
// half-written shows, and once space is freed the same station prepares
// again; a restart finds every committed row and a verified audit chain.
func TestFaultDataFolderFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root; TestFilesDiskFull (agent/support) covers a full download folder")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs (%v %s); TestFilesDiskFull (agent/support) covers a full download folder", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	t.Setenv(core.KeyringEnv, "off")
	clock := coretest.NewClock(coretest.Start)
	st, err := core.Open(core.Config{DataDir: dir, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()
	_, first := coretest.MustPrepare(t, st, "Full Tech", "full@example.com")
	p2, err := st.CreateProfile(t.Context(), "Second Tech", "second@example.com")
	if err != nil {
		t.Fatal(err)
	}

	filler := filepath.Join(dir, "filler")
	fill(t, filler)
	pw := coretest.PasswordFor(p2.ID)
	req := core.PrepareRequest{ProfileID: p2.ID, UserEmail: "user@example.com", Password: pw, Confirm: pw}
	_, err = st.Prepare(t.Context(), req)
	if err == nil {
		t.Fatal("preparing on a full disk succeeded")
	}
	t.Logf("preparing on a full disk: %v", err)
	if !errors.Is(err, core.ErrStationDiskFull) {
		t.Errorf("preparing on a full disk: %v; want ErrStationDiskFull's sentence, not SQLite's words", err)
	}
	if sessions, err := st.Sessions(t.Context(), core.SessionFilter{}); err != nil || len(sessions) != 1 {
		t.Errorf("on a full disk the list shows %d sessions (%v); want the 1 committed", len(sessions), err)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	second, err := st.Prepare(t.Context(), req)
	if err != nil {
		t.Fatalf("preparing once space is free again: %v", err)
	}
	st.Close()
	st = coretest.OpenWith(t, dir, clock, nil)
	for _, id := range []int64{first.Session.ID, second.Session.ID} {
		if s, err := st.Session(t.Context(), id); err != nil || s.State != core.StatePrepared {
			t.Errorf("session %d after the restart: %v %v", id, s.State, err)
		}
	}
	if err := st.VerifyAudit(t.Context()); err != nil {
		t.Fatalf("audit chain after the full disk: %v", err)
	}
}

// fill writes path until the filesystem has no room left.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 64<<10)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			break
		}
	}
	// The last bytes that fit, so not even a page is left.
	for {
		if _, err := f.Write(block[:512]); err != nil {
			break
		}
	}
}

// TestFaultClockJump: the station's clock jumps back 3 hours while a
// session is active — nothing expires early and the 24 hours still end
// where they did; then it jumps forward past them — the session expires on
// the next tick (the PC is told over its channel:
// TestChannelTellsExpiredSession in agent/support).
func TestFaultClockJump(t *testing.T) {
	ctx := t.Context()
	st, clock := coretest.Open(t)
	_, prep := coretest.MustPrepare(t, st, "Clock Tech", "clock@example.com")
	paired, err := st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "192.0.2.7:50123", Facts: coretest.WindowsPC})
	if err != nil {
		t.Fatal(err)
	}
	expires := paired.Session.ExpiresAt

	clock.Advance(-3 * time.Hour)
	if _, err := st.Heartbeat(ctx, paired.AgentKey); err != nil {
		t.Fatalf("heartbeat after the backward jump: %v", err)
	}
	if err := st.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(23*time.Hour + 59*time.Minute) // 20h59m after pairing by the true time
	if err := st.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	s, _ := st.Session(ctx, prep.Session.ID)
	if s.State != core.StateActive || !s.ExpiresAt.Equal(expires) {
		t.Fatalf("after the backward jump: %s, expires %v; want active until %v", s.State, s.ExpiresAt, expires)
	}

	clock.Advance(4 * time.Hour) // 24h59m after pairing: past the 24 h
	if err := st.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	s, _ = st.Session(ctx, prep.Session.ID)
	// Closed when the tick noticed (the jump's landing), not before the 24 h.
	if s.State != core.StateExpired || s.ClosedAt.Before(expires) {
		t.Fatalf("after the forward jump: %s closed %v; want expired, not before %v", s.State, s.ClosedAt, expires)
	}
	// The PC's next heartbeat (or its channel) is told the session expired.
	if hb, err := st.Heartbeat(ctx, paired.AgentKey); err != nil || hb.State != core.StateExpired {
		t.Fatalf("the PC's heartbeat after the jump is answered %s, %v; want expired", hb.State, err)
	}
	if free, total, err := st.Seats(ctx); err != nil || free != total {
		t.Fatalf("seat not freed after the jump: %d of %d, %v", free, total, err)
	}
	if err := st.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}
