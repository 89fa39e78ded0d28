package support

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"adhocstation/core/wire"
)

// The user's live activity list ("What your technician is doing"): the
// service notes each action of the technician where it serves it (a
// sign-in, a command, a file listed or moved, the screen, the clipboard,
// Ctrl+Alt+Del), keeps the list in the admin-only state folder until
// cleanup, shows it through the UI (the pipe's hub passes it to the trays)
// and sends it with the cleanup receipt, so the station's audit has the
// PC's own account beside its own. Paths and command lines are the
// technician's actions on the user's own PC, so the user reads them; they
// are never written to the service's log.

// ActivityShower is the part of the service's UI that shows the list (the
// pipe's Hub). Each call has the whole list: the UI keeps the newest and
// passes on what a tray has not had, so a burst of actions never queues
// one message per action.
type ActivityShower interface {
	ShowActivity(list wire.Activity)
}

// activityFile is the list in the state folder, beside the session record.
const activityFile = "activity.json"

// maxActivityFile bounds reading the file back (the list's bound and room
// for its JSON).
const maxActivityFile = 2 * wire.MaxActivityBytes

// activityLog is the App's list. It is opened with the state folder and
// the session it belongs to; actions before that are kept in memory only.
type activityLog struct {
	mu      sync.Mutex
	dir     string
	session int64
	opened  bool
	list    wire.Activity
	size    int    // bytes of the entries' JSON
	next    uint64 // the last number given
	// The file is written by writeActivity, one at a time.
	dirty  bool          // a change is not written yet
	saving bool          // a writer runs
	idle   chan struct{} // closed when the running writer ends
}

// storedActivity is the file: the list and the session it is about, so a
// file some earlier session left is never shown as this one's.
type storedActivity struct {
	SessionID int64  `json:"session_id"`
	Next      uint64 `json:"next"`
	wire.Activity
}

// openActivity loads the session's list from the state folder (after a
// restart of the service) once; a file of another session, or one that
// is not valid, is dropped.
func (a *App) openActivity(dir string, session int64) {
	l := &a.activity
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.opened {
		return
	}
	l.opened, l.dir, l.session = true, dir, session
	b, err := os.ReadFile(filepath.Join(dir, activityFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		a.Log.Printf("the activity list could not be read: %v", err)
	case len(b) > maxActivityFile:
		a.Log.Printf("the activity list is larger than this app writes; it starts again")
	default:
		var s storedActivity
		if json.Unmarshal(b, &s) != nil || s.SessionID != session {
			a.Log.Printf("the activity list is not this session's; it starts again")
			break
		}
		// Read back, it is still input: cleaned and bounded as when noted.
		kept := l.list.Entries
		l.list, l.size, l.next = wire.Activity{Earlier: max(s.Earlier, 0)}, 0, s.Next
		for _, e := range s.Entries {
			l.next = max(l.next, e.Seq)
			l.add(e)
		}
		for _, e := range kept { // noted before the folder was known
			l.next++
			e.Seq = l.next
			l.add(e)
		}
	}
	a.saveActivity()
	a.showActivity()
}

// note adds one action to the list, saves it and shows it. It never
// blocks on a tray: the UI only queues.
func (a *App) note(kind, text string) {
	l := &a.activity
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if a.Clock != nil { // nil when only the channel is served (tests)
		now = a.Clock.Now()
	}
	l.next++
	l.add(wire.ActivityEntry{Seq: l.next, At: now, Kind: kind, Text: text})
	a.saveActivity()
	a.showActivity()
}

// add appends e, cleaned, dropping the oldest entries past the bounds.
func (l *activityLog) add(e wire.ActivityEntry) {
	e.Clean()
	if e.Text == "" {
		return
	}
	l.list.Entries = append(l.list.Entries, e)
	l.size += entrySize(e)
	for len(l.list.Entries) > 1 && (len(l.list.Entries) > wire.MaxActivityEntries || l.size > wire.MaxActivityBytes) {
		l.size -= entrySize(l.list.Entries[0])
		l.list.Entries = l.list.Entries[1:]
		l.list.Earlier++
	}
}

func entrySize(e wire.ActivityEntry) int {
	b, _ := json.Marshal(e)
	return len(b) + 1
}

// snapshot is a copy of the list the caller may keep.
func (l *activityLog) snapshot() wire.Activity {
	return wire.Activity{Earlier: l.list.Earlier, Entries: append([]wire.ActivityEntry(nil), l.list.Entries...)}
}

// saveActivity has the list written (l.mu held) by a writer of its own,
// so an action never waits for the disk: on Windows each write is flushed
// (FlushFileBuffers), which can take tens of milliseconds, and a note sits
// in the path of a folder listing or of the screen's control lines. Notes
// that come while a write runs are written together after it.
func (a *App) saveActivity() {
	l := &a.activity
	if l.dir == "" {
		return
	}
	l.dirty = true
	if l.saving {
		return
	}
	l.saving, l.idle = true, make(chan struct{})
	go a.writeActivity(l.idle)
}

// writeActivity writes the list until it has no unwritten change, as
// saveState writes the record: a temporary file, then a rename, with
// App.WriteFile's admin-only descriptor.
func (a *App) writeActivity(idle chan struct{}) {
	l := &a.activity
	write := a.WriteFile
	if write == nil {
		write = func(name string, data []byte) error { return os.WriteFile(name, data, 0o600) }
	}
	for {
		l.mu.Lock()
		if !l.dirty || l.dir == "" {
			l.saving = false
			close(idle)
			l.mu.Unlock()
			return
		}
		l.dirty = false
		dir := l.dir
		b, err := json.Marshal(storedActivity{SessionID: l.session, Next: l.next, Activity: l.list})
		l.mu.Unlock()
		if err != nil {
			continue
		}
		tmp := filepath.Join(dir, activityFile+".tmp")
		if err := write(tmp, b); err != nil {
			a.Log.Printf("the activity list could not be saved: %v", err)
		} else if err := os.Rename(tmp, filepath.Join(dir, activityFile)); err != nil {
			a.Log.Printf("the activity list could not be saved: %v", err)
		}
	}
}

// flushActivity waits until the list's last change is on disk (the
// service stops).
func (a *App) flushActivity() {
	l := &a.activity
	l.mu.Lock()
	idle, saving := l.idle, l.saving
	l.mu.Unlock()
	if saving {
		<-idle
	}
}

// closeActivity ends the list's writing when the session loop returns:
// the last change is written, and a note that comes later (a remote
// stream still closing) stays in memory only, so no writer runs after Run
// has returned (a test's folder, or an uninstall, then removes the state
// folder under it). A later session loop of the same App reads the list
// again.
func (a *App) closeActivity() {
	l := &a.activity
	l.mu.Lock()
	l.dir, l.opened = "", false
	l.mu.Unlock()
	a.flushActivity()
}

// showActivity passes the list to the UI (l.mu held, so the UI gets the
// lists in order).
func (a *App) showActivity() {
	if s, ok := a.UI.(ActivityShower); ok {
		s.ShowActivity(a.activity.snapshot())
	}
}

// forgetActivity removes the list's file with the session record; the
// list in memory stays for the receipt, which is sent after.
func (a *App) forgetActivity(dir string) {
	l := &a.activity
	l.mu.Lock()
	l.dir = ""
	l.mu.Unlock()
	a.flushActivity() // a write under way would bring the file back
	for _, name := range []string{activityFile, activityFile + ".tmp"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			a.Log.Printf("could not remove the activity list: %v", err)
		}
	}
}

// cleanupReceipt sends the cleanup receipt with the PC's list.
func (a *App) cleanupReceipt(ctx context.Context, c *Client, key, detail string) error {
	l := &a.activity
	l.mu.Lock()
	list := l.snapshot()
	l.mu.Unlock()
	req := wire.AgentRequest{AgentKey: key, Detail: detail}
	if len(list.Entries) > 0 || list.Earlier > 0 {
		req.Activity = &list
	}
	var out wire.StatusResponse
	err := c.call(ctx, PathCleanup, req, &out)
	if w, ok := refusal(err); ok && w.Code == wire.CodeBadRequest && req.Activity != nil {
		// A station that cannot take the list (one older than the list,
		// or a list larger than it reads) still gets the receipt: the
		// account's removal matters more than the list.
		a.Log.Printf("the station refused the activity list (%s); the receipt goes without it", w.Code)
		req.Activity = nil
		req.Detail = wire.CutText(detail+"; the station did not take the PC's activity list", 1000)
		err = c.call(ctx, PathCleanup, req, &out)
	}
	return err
}

// The sentences of the list. who is the technician as the station names
// them.

func noteConnected(who string) string { return who + " connected to this PC" }
func noteLeft(who string) string      { return who + " left (disconnected from this PC)" }
func noteSystem(who string) string {
	return who + " looked at this PC's system information"
}
func noteDrives(who string) string { return who + " looked at the list of drives" }

func noteList(who, path string, n int) string {
	items := "items"
	if n == 1 {
		items = "item"
	}
	return fmt.Sprintf("%s looked at the folder %s (%d %s)", who, path, n, items)
}

func noteDownload(who, path string, size int64) string {
	return fmt.Sprintf("%s is copying %s (%s) from this PC", who, path, sizeText(size))
}

func noteUpload(who, path string, size int64, replaced bool) string {
	s := fmt.Sprintf("%s put the file %s (%s) on this PC", who, path, sizeText(size))
	if replaced {
		s += ", replacing the one that was there"
	}
	return s
}

// noteCommand shows the command's first line as typed, and says so when
// there is more.
func noteCommand(who, shell, line string) string {
	line = strings.Trim(strings.ReplaceAll(line, "\r\n", "\n"), "\n")
	first, rest, _ := strings.Cut(line, "\n")
	shown := wire.CleanText(first, 200)
	if len(shown) < len(wire.CleanText(first, len(first))) {
		shown += " …"
	}
	s := fmt.Sprintf("%s ran a %s command: %s", who, shellName(shell), shown)
	if rest = strings.TrimSpace(rest); rest != "" {
		n := strings.Count(rest, "\n") + 1
		lines := "lines"
		if n == 1 {
			lines = "line"
		}
		s += fmt.Sprintf(" (and %d more %s)", n, lines)
	}
	return s
}

func shellName(shell string) string {
	switch shell {
	case wire.ShellPowerShell:
		return "PowerShell"
	case wire.ShellCmd:
		return "Command Prompt"
	}
	return wire.CleanText(shell, 20)
}

func noteScreen(who string, on, byUser bool) string {
	switch {
	case on:
		return who + " started viewing your screen"
	case byUser:
		return "You stopped " + who + " viewing your screen"
	}
	return who + " stopped viewing your screen"
}

func noteControl(who string, on bool) string {
	if on {
		return who + " took control of your mouse and keyboard"
	}
	return who + " gave back control of your mouse and keyboard"
}

func noteClipIn(who string, text string) string {
	n := utf8.RuneCountInString(text)
	chars := "characters"
	if n == 1 {
		chars = "character"
	}
	return fmt.Sprintf("%s put text on your clipboard (%d %s)", who, n, chars)
}

func noteClipOut(who string) string {
	return "Text copied on this PC was sent to " + who + "'s clipboard"
}

func noteSAS(who string) string { return who + " pressed Ctrl+Alt+Del" }
func noteChat(who string) string {
	return who + " opened the chat"
}

// sizeText is a size as people read it: "3.4 MB (3,565,158 bytes)".
func sizeText(n int64) string {
	exact := fmt.Sprintf("%s bytes", groupDigits(n))
	if n == 1 {
		exact = "1 byte"
	}
	units := []string{"KB", "MB", "GB", "TB"}
	v, u := float64(n), ""
	for _, unit := range units {
		if v < 1024 {
			break
		}
		v, u = v/1024, unit
	}
	if u == "" {
		return exact
	}
	return fmt.Sprintf("%.1f %s, %s", v, u, exact)
}

func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
