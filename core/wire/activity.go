package wire

import "time"

// The PC's own account of a session (docs/PROTOCOL.md, "Activity"): what
// the technician did, as the service on the PC served it. The tray helper
// shows it to the user as it happens ("What your technician is doing"),
// and the cleanup receipt carries it into the station's audit log, beside
// the station's own entries.

// ActivityEntry is one action of the technician on the PC.
type ActivityEntry struct {
	Seq  uint64    `json:"n"`    // numbered from 1 for the session, never reused (also across a restart)
	At   time.Time `json:"at"`   // the PC's clock
	Kind string    `json:"kind"` // one of the Activity* kinds
	Text string    `json:"text"` // plain words: "Ana Tech ran a command: ipconfig /all"
}

// Activity is the PC's list: the newest entries it keeps, oldest first,
// and how many earlier ones it no longer keeps.
type Activity struct {
	Earlier int             `json:"earlier,omitempty"`
	Entries []ActivityEntry `json:"entries"`
}

// Kinds of ActivityEntry.
const (
	ActivityConnected  = "connected"  // a technician signed in (a remote session opened)
	ActivityLeft       = "left"       // the remote session closed
	ActivityCommand    = "command"    // a command's first line, as typed
	ActivitySystem     = "system"     // the System tab read the PC's facts
	ActivityDrives     = "drives"     // the drives were listed
	ActivityList       = "list"       // a folder was listed
	ActivityDownload   = "download"   // a file is being copied from the PC (path and size)
	ActivityUpload     = "upload"     // a file was put on the PC (path and size)
	ActivityScreenOn   = "screen_on"  // screen viewing started
	ActivityScreenOff  = "screen_off" // screen viewing ended
	ActivityControlOn  = "control_on" // mouse and keyboard control switched on
	ActivityControlOff = "control_off"
	ActivityClipIn     = "clipboard_in"  // the technician's clipboard text was put on the PC
	ActivityClipOut    = "clipboard_out" // the PC's clipboard text was sent to the technician
	ActivitySAS        = "ctrl_alt_del"  // Ctrl+Alt+Del was sent
	ActivityChat       = "chat"          // the chat was opened
)

// Bounds of the PC's list. The PC keeps at most MaxActivityEntries
// entries and MaxActivityBytes of their JSON, the newest; the station
// audits no more than that from one receipt.
const (
	MaxActivityText    = 300
	MaxActivityEntries = 200
	MaxActivityBytes   = 40 << 10
)

// MaxReceiptBytes caps the body of the cleanup receipt, which carries the
// PC's list (every other request: MaxRequestBytes).
const MaxReceiptBytes = 64 << 10

// Clean makes e fit for one line of the audit log and the tray: control
// and format characters (bidirectional overrides) dropped, cut to its
// bounds. A path on the PC may hold anything a file name can.
func (e *ActivityEntry) Clean() {
	e.Kind = CleanText(e.Kind, 32)
	e.Text = CleanText(e.Text, MaxActivityText)
}
