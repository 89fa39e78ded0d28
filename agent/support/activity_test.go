//go:build linux

package support_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"adhocstation/agent/agenttest"
	"adhocstation/agent/pipe"
	"adhocstation/agent/screen"
	"adhocstation/agent/support"
	"adhocstation/agent/x11desk"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/remote"
	"adhocstation/core/wire"
)

// activityRig is the rig with a screen (Xvfb) and a second tray helper
// that keeps the activity list, as the Windows tray does.
func activityRig(t *testing.T) (*rig, *agenttest.Tray, string) {
	x, _ := agenttest.Display(t, 320, 240)
	r := newRig(t, windowsPC, nil, rightCode)
	r.desktop = func() (screen.Desktop, error) { return x11desk.Open(x.Display) }
	r.start()
	r.waitStatus(support.TrayWaiting)
	return r, r.joinTray(), x.Display
}

// joinTray connects another tray helper to the running service.
func (r *rig) joinTray() *agenttest.Tray {
	tray := agenttest.NewTray(nil)
	ctx, cancel := context.WithCancel(context.Background())
	r.t.Cleanup(cancel)
	r.helper(ctx, pipe.RoleTray, tray)
	return tray
}

// kinds lists the entries' kinds, in order.
func kinds(l support.ActivityList) []string {
	var out []string
	for _, e := range l.Entries {
		out = append(out, e.Kind)
	}
	return out
}

// lastKind waits until the tray's newest entry is of kind.
func lastKind(t *testing.T, tray *agenttest.Tray, kind string) support.ActivityList {
	t.Helper()
	return tray.WaitActivity(t, "a "+kind+" entry last", func(l support.ActivityList) bool {
		return len(l.Entries) > 0 && l.Entries[len(l.Entries)-1].Kind == kind
	})
}

// TestActivityListEveryAction: a technician at a real station does one of
// each thing on the PC through core/remote (sign in, the System tab, a
// two-line command, drives, a folder whose file has a name with a bidi
// override and an escape sequence, a download, an upload, the chat, the
// screen with control, the clipboard both ways, Ctrl+Alt+Del, control
// off, the view's end, leaving). The user's tray lists each, in order,
// with its time and in plain words, the weird name cleaned; the cleanup
// receipt carries the same list into the station's audit (real SQLite),
// whose chain still verifies, and the list's file is gone with the app.
func TestActivityListEveryAction(t *testing.T) {
	r, tray, display := activityRig(t)
	ctx, id := context.Background(), r.prep.Session.ID
	rs, err := r.st.Connect(ctx, id, coretest.Password)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	lastKind(t, tray, wire.ActivityConnected)

	if _, err := rs.System(ctx); err != nil {
		t.Fatal(err)
	}
	lastKind(t, tray, wire.ActivitySystem)
	if err := rs.Run(ctx, wire.ShellPowerShell, "echo first line\necho second line", func([]byte) {}); err != nil {
		t.Fatal(err)
	}
	lastKind(t, tray, wire.ActivityCommand)
	if _, err := rs.Drives(ctx); err != nil {
		t.Fatal(err)
	}
	lastKind(t, tray, wire.ActivityDrives)

	dir := t.TempDir()
	weird := "invoice\u202Efdp.exe\x1b[31m" // reads "invoiceexe.pdf" with the override
	must(t, os.WriteFile(filepath.Join(dir, weird), []byte("12345"), 0o600))
	if _, _, err := rs.List(ctx, dir); err != nil {
		t.Fatal(err)
	}
	lastKind(t, tray, wire.ActivityList)
	local := filepath.Join(t.TempDir(), "copy")
	if err := rs.Download(ctx, filepath.Join(dir, weird), local, nil); err != nil {
		t.Fatal(err)
	}
	lastKind(t, tray, wire.ActivityDownload)
	upload, _ := randomFile(t, t.TempDir(), "tool.txt", 2500)
	if err := rs.Upload(ctx, upload, dir, "tool.txt", false, nil); err != nil {
		t.Fatal(err)
	}
	lastKind(t, tray, wire.ActivityUpload)
	chat, err := rs.Chat(ctx, func(wire.ChatMessage) {})
	if err != nil {
		t.Fatal(err)
	}
	lastKind(t, tray, wire.ActivityChat)
	chat.Close()

	view, err := rs.Screen(ctx, wire.ScreenOpen{MaxFPS: 5}, remote.ScreenHandlers{})
	if err != nil {
		t.Fatal(err)
	}
	lastKind(t, tray, wire.ActivityScreenOn)
	view.SetControl(true)
	lastKind(t, tray, wire.ActivityControlOn)
	must(t, view.SetClipboard("from the technician"))
	lastKind(t, tray, wire.ActivityClipIn)
	other, err := x11desk.Open(display)
	must(t, err)
	defer other.Close()
	// The list notes the line as it passes; the PC applies it after.
	deadline := time.Now().Add(coretest.WaitLimit)
	for text, _ := other.Clipboard(); text != "from the technician"; text, _ = other.Clipboard() {
		if time.Now().After(deadline) {
			t.Fatalf("the PC's clipboard is %q", text)
		}
		time.Sleep(20 * time.Millisecond)
	}
	must(t, other.SetClipboard("copied on the PC"))
	lastKind(t, tray, wire.ActivityClipOut)
	view.SendSAS()
	lastKind(t, tray, wire.ActivitySAS)
	view.SetControl(false)
	lastKind(t, tray, wire.ActivityControlOff)
	view.Close()
	lastKind(t, tray, wire.ActivityScreenOff)
	rs.Close()
	list := lastKind(t, tray, wire.ActivityLeft)

	want := []string{wire.ActivityConnected, wire.ActivitySystem, wire.ActivityCommand, wire.ActivityDrives,
		wire.ActivityList, wire.ActivityDownload, wire.ActivityUpload, wire.ActivityChat, wire.ActivityScreenOn,
		wire.ActivityControlOn, wire.ActivityClipIn, wire.ActivityClipOut, wire.ActivitySAS, wire.ActivityControlOff,
		wire.ActivityScreenOff, wire.ActivityLeft}
	if got := kinds(list); !slices.Equal(got, want) {
		t.Fatalf("the tray lists %q; want %q", got, want)
	}
	lines := list.Lines(time.UTC)
	tech := r.profile.Name
	wantText := []string{
		tech + " connected to this PC",
		tech + " looked at this PC's system information",
		tech + " ran a PowerShell command: echo first line (and 1 more line)",
		tech + " looked at the list of drives",
		tech + " looked at the folder " + dir + " (1 item)",
		tech + " is copying " + filepath.Join(dir, "invoicefdp.exe[31m") + " (5 bytes) from this PC",
		tech + " put the file " + filepath.Join(dir, "tool.txt") + " (2.4 KB, 2,500 bytes) on this PC",
		tech + " opened the chat",
		tech + " started viewing your screen",
		tech + " took control of your mouse and keyboard",
		tech + " put text on your clipboard (19 characters)",
		"Text copied on this PC was sent to " + tech + "'s clipboard",
		tech + " pressed Ctrl+Alt+Del",
		tech + " gave back control of your mouse and keyboard",
		tech + " stopped viewing your screen",
		tech + " left (disconnected from this PC)",
	}
	for i, line := range lines {
		at := list.Entries[i].At.UTC().Format("Mon 15:04:05") + "  "
		if line != at+wantText[i] {
			t.Errorf("line %d reads %q; want %q", i+1, line, at+wantText[i])
		}
		if strings.ContainsAny(line, "\u202E\x1b") {
			t.Errorf("line %d keeps a control character: %q", i+1, line)
		}
	}
	for i, e := range list.Entries {
		if e.Seq != uint64(i+1) || e.At.IsZero() {
			t.Errorf("entry %d is numbered %d at %v", i+1, e.Seq, e.At)
		}
	}

	// The technician ends the session: the receipt carries the list.
	must(t, r.st.End(ctx, id))
	r.agent.Advance(30 * time.Second)
	r.checkCleanedUp(r.finished("nil, cleaned up"))
	audited := pcActivity(t, r)
	if len(audited) != len(wantText) {
		t.Fatalf("the audit has %d PC activity rows; want %d: %q", len(audited), len(wantText), audited)
	}
	for i, row := range audited {
		if !strings.HasSuffix(row, "(PC clock): "+wantText[i]) {
			t.Errorf("audit row %d is %q; want it to end with %q", i+1, row, wantText[i])
		}
	}
	if err := r.st.VerifyAudit(ctx); err != nil {
		t.Fatalf("the audit chain with the PC's rows: %v", err)
	}
	if _, err := os.Stat(filepath.Join(r.rec.stateDir, "activity.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the activity list is still in the state folder after the cleanup: %v", err)
	}
}

// pcActivity is the audit's PC activity rows of the rig's session, in the
// order they were written, after the cleanup receipt.
func pcActivity(t *testing.T, r *rig) []string {
	t.Helper()
	rows, err := r.st.Audit(context.Background(), core.AuditFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	receipt := false
	for i := len(rows) - 1; i >= 0; i-- { // oldest first
		row := rows[i]
		if row.SessionID != r.prep.Session.ID {
			continue
		}
		switch row.Event {
		case "cleanup receipt":
			receipt = true
		case core.EventPCActivity:
			if !receipt {
				t.Errorf("a PC activity row before the receipt: %q", row.Detail)
			}
			out = append(out, row.Detail)
		}
	}
	return out
}

// TestActivityListSurvivesRestart: the list is in the state folder; the
// service restarted (killed) shows a newly joined tray the same list, goes
// on numbering after it, and the receipt carries all of it.
func TestActivityListSurvivesRestart(t *testing.T) {
	r := waitingRig(t)
	tray := r.joinTray()
	ctx, id := context.Background(), r.prep.Session.ID
	rs, err := r.st.Connect(ctx, id, coretest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.System(ctx); err != nil {
		t.Fatal(err)
	}
	rs.Close()
	before := lastKind(t, tray, wire.ActivityLeft)

	// The file is written by a writer of its own, just after the tray is
	// told: it is looked at until it has the three (or the deadline).
	var stored struct {
		SessionID int64                `json:"session_id"`
		Entries   []wire.ActivityEntry `json:"entries"`
	}
	deadline := time.Now().Add(coretest.WaitLimit)
	for {
		b, err := os.ReadFile(filepath.Join(r.rec.stateDir, "activity.json"))
		stored.Entries = nil
		if err == nil && json.Unmarshal(b, &stored) == nil && stored.SessionID == id && len(stored.Entries) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stored list is %s (%v); want the session's 3 entries", b, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st, err := os.Stat(filepath.Join(r.rec.stateDir, "activity.json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the list's file: %v, mode %v; want 0600 (the state folder's files are admin-only)", err, st.Mode())
	}

	r.cancel()
	if err := r.finished("context.Canceled"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	r.start()
	r.waitStatus(support.TrayWaiting)
	again := r.joinTray()
	after := again.WaitActivity(t, "the list from before the restart", func(l support.ActivityList) bool { return len(l.Entries) == 3 })
	if !slices.Equal(kinds(after), kinds(before)) || after.Entries[2].Text != before.Entries[2].Text {
		t.Fatalf("after the restart the tray lists %q; want %q", after.Lines(time.UTC), before.Lines(time.UTC))
	}
	r.waitOnline(true)
	rs, err = r.st.Connect(ctx, id, coretest.Password)
	if err != nil {
		t.Fatal(err)
	}
	l := lastKind(t, again, wire.ActivityConnected)
	if n := l.Entries[len(l.Entries)-1].Seq; n != 4 {
		t.Errorf("the first action after the restart is numbered %d; want 4", n)
	}
	rs.Close()
	lastKind(t, again, wire.ActivityLeft)

	must(t, r.st.End(ctx, id))
	r.agent.Advance(30 * time.Second)
	r.checkCleanedUp(r.finished("nil, cleaned up"))
	if rows := pcActivity(t, r); len(rows) != 5 || !strings.Contains(rows[0], "#1 ") || !strings.Contains(rows[4], "#5 ") {
		t.Fatalf("the audit has %q; want the 5 actions from both runs", rows)
	}
	if _, err := os.Stat(filepath.Join(r.rec.stateDir, "activity.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the activity list is still in the state folder after the cleanup: %v", err)
	}
}

// TestActivityLeftAfterTheViewEnds: the technician closes the remote
// window with the screen still viewed: the list says the viewing stopped,
// then that they left, in that order.
func TestActivityLeftAfterTheViewEnds(t *testing.T) {
	r, tray, _ := activityRig(t)
	rs, err := r.st.Connect(context.Background(), r.prep.Session.ID, coretest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.Screen(context.Background(), wire.ScreenOpen{MaxFPS: 5}, remote.ScreenHandlers{}); err != nil {
		t.Fatal(err)
	}
	lastKind(t, tray, wire.ActivityScreenOn)
	rs.Close()
	l := lastKind(t, tray, wire.ActivityLeft)
	want := []string{wire.ActivityConnected, wire.ActivityScreenOn, wire.ActivityScreenOff, wire.ActivityLeft}
	if got := kinds(l); !slices.Equal(got, want) {
		t.Fatalf("the tray lists %q; want %q", got, want)
	}
}
