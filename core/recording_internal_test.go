package core

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"adhocstation/core/remote"
	"adhocstation/core/wire"
)

// manualClock is the station's injected clock in these tests.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recordOne records a short session of sessionID through startRecording,
// as Connect does, and returns the recording once sealed.
func recordOne(t *testing.T, st *Station, sessionID int64) Recording {
	t.Helper()
	rs := &remote.RemoteSession{}
	st.startRecording(t.Context(), Session{ID: sessionID, ProfileName: "Tom", Computer: &Computer{Hostname: "DESKTOP-7QK2"}}, rs)
	rec := rs.Recorder()
	if rec == nil {
		t.Fatal("the session is not recorded; recording is on by default")
	}
	rec.Command(1, wire.ShellCmd, "ipconfig")
	rec.Output(1, []byte("Windows IP Configuration"))
	rec.Chat(wire.ChatMessage{From: "Tom", Text: "hello"}, true)
	rec.Close()
	if err := st.WaitRecordings(t.Context()); err != nil {
		t.Fatal(err)
	}
	all, err := st.Recordings(t.Context(), sessionID)
	if err != nil || len(all) != 1 || !all[0].Saved || !all[0].Complete {
		t.Fatalf("recordings of session %d: %+v, %v; want one saved", sessionID, all, err)
	}
	return all[0]
}

// A sealed recording verifies; a flipped byte, a replaced file and a
// deleted one are each reported — by VerifyRecording and by the check of
// all recordings — while the audit log itself stays intact.
func TestVerifyRecordingDetectsChanges(t *testing.T) {
	st, err := Open(Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	a, b := recordOne(t, st, 1), recordOne(t, st, 2)
	if err := st.VerifyRecording(ctx, a.Name); err != nil {
		t.Fatalf("an intact recording: %v", err)
	}
	if problems, err := st.VerifyRecordings(ctx); err != nil || len(problems) != 0 {
		t.Fatalf("all intact: %+v, %v", problems, err)
	}
	pathA := filepath.Join(st.recordingsDir(), a.Name)
	data, err := os.ReadFile(pathA)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x40
	if err := os.WriteFile(pathA, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := st.VerifyRecording(ctx, a.Name); !errors.Is(err, ErrRecordingChanged) {
		t.Fatalf("a flipped byte: %v; want ErrRecordingChanged", err)
	}
	if err := os.Remove(filepath.Join(st.recordingsDir(), b.Name)); err != nil {
		t.Fatal(err)
	}
	if err := st.VerifyRecording(ctx, b.Name); !errors.Is(err, ErrRecordingMissing) {
		t.Fatalf("a deleted recording: %v; want ErrRecordingMissing", err)
	}
	problems, err := st.VerifyRecordings(ctx)
	if err != nil || len(problems) != 2 {
		t.Fatalf("problems %+v, %v; want the changed and the deleted one", problems, err)
	}
	if err := st.VerifyAudit(ctx); err != nil {
		t.Fatalf("the audit log: %v", err)
	}
	// A recording in the audit log whose seal is intact but whose file was
	// swapped for another intact recording of the station is caught by
	// the checksum too.
	c := recordOne(t, st, 3)
	d := recordOne(t, st, 4)
	other, _ := os.ReadFile(filepath.Join(st.recordingsDir(), d.Name))
	if err := os.WriteFile(filepath.Join(st.recordingsDir(), c.Name), other, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := st.VerifyRecording(ctx, c.Name); !errors.Is(err, ErrRecordingChanged) {
		t.Fatalf("a swapped recording: %v; want ErrRecordingChanged", err)
	}
	if _, _, err := st.OpenRecording(ctx, "../station.key"); !errors.Is(err, ErrRecordingUnknown) {
		t.Fatalf("a name outside the folder: %v", err)
	}
}

// The station's background work deletes recordings older than the
// retention period (Settings), audits each deletion, and Verify integrity
// then tells a deleted recording from a removed one.
func TestRetentionDeletesOldRecordings(t *testing.T) {
	clock := &manualClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	st, err := Open(Config{DataDir: t.TempDir(), Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	set, err := st.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !set.Recording.Enabled || set.Recording.Retention != 30*24*time.Hour {
		t.Fatalf("default recording settings %+v; want on, 30 days", set.Recording)
	}
	set.Recording.Retention = 7 * 24 * time.Hour
	if err := st.SaveSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	old := recordOne(t, st, 1)
	clock.advance(5 * 24 * time.Hour)
	young := recordOne(t, st, 2)

	clock.advance(2*24*time.Hour + time.Minute) // old is 7 days and a minute old, young 2 days
	if err := st.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(st.recordingsDir(), old.Name)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the old recording is still there: %v", err)
	}
	if err := st.VerifyRecording(ctx, young.Name); err != nil {
		t.Fatalf("the young recording: %v", err)
	}
	if err := st.VerifyRecording(ctx, old.Name); !errors.Is(err, ErrRecordingDeleted) {
		t.Fatalf("the deleted recording: %v; want ErrRecordingDeleted", err)
	}
	if problems, err := st.VerifyRecordings(ctx); err != nil || len(problems) != 0 {
		t.Fatalf("a deletion by retention is no problem: %+v, %v", problems, err)
	}
	entries, err := st.Audit(ctx, AuditFilter{Search: AuditRecordingDeleted})
	if err != nil || len(entries) != 1 || entries[0].SessionID != 1 {
		t.Fatalf("deletion audited as %+v, %v", entries, err)
	}
	// Within the hour the folder is not read again; after it, young goes too.
	clock.advance(6 * 24 * time.Hour)
	if err := st.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(st.recordingsDir(), young.Name)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the second recording outlived its retention: %v", err)
	}
	if err := st.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

// Recording off in Settings: a session gets no recorder and no file.
func TestRecordingOff(t *testing.T) {
	st, err := Open(Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	set, _ := st.Settings(t.Context())
	set.Recording.Enabled = false
	if err := st.SaveSettings(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	rs := &remote.RemoteSession{}
	st.startRecording(t.Context(), Session{ID: 1, Computer: &Computer{Hostname: "PC"}}, rs)
	if rs.Recorder() != nil {
		t.Fatal("recorded although Settings turned recording off")
	}
	set.Recording.Retention = time.Hour
	if err := st.SaveSettings(t.Context(), set); len(SettingErrors(err)) != 1 || SettingErrors(err)[0].Field != FieldRetention {
		t.Fatalf("a retention of an hour: %v; want the days field refused", err)
	}
}

// Closing the station seals a recording whose remote window was never
// closed (the station quit with it open): the next start finds it saved.
func TestCloseSealsOpenRecordings(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	rs := &remote.RemoteSession{}
	st.startRecording(t.Context(), Session{ID: 5, ProfileName: "Tom", Computer: &Computer{Hostname: "PC"}}, rs)
	rs.Recorder().Command(1, wire.ShellCmd, "hostname")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err = Open(Config{DataDir: dir}); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Recordings(t.Context(), 5)
	if err != nil || len(recs) != 1 || !recs[0].Saved || !recs[0].Complete {
		t.Fatalf("after the station closed: %+v, %v; want the recording sealed", recs, err)
	}
	if err := st.VerifyRecording(t.Context(), recs[0].Name); err != nil {
		t.Fatal(err)
	}
}
