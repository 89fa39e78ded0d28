package wire

// The remote screen (the Screen view of a remote session window).
//
// A screen stream is an attached stream (SignIn{Attach: KEY, Screen:
// &ScreenOpen{…}}), answered by one SignInResult line like a command. After
// the OK the stream is asymmetric:
//
//   - PC → station: binary messages, each a ScreenHeader-sized header (one
//     byte kind, four bytes big-endian payload length) and the payload. The
//     kinds are the Screen* constants below; frame payloads are encoded and
//     decoded by package core/wire/frame, the others are JSON.
//   - station → PC: JSON lines (ScreenControl), at most MaxStreamLine each.
//
// Flow control: the PC keeps at most ScreenWindow frames unacknowledged
// (the station acks each frame by its sequence number once it has decoded
// it), so a slow link lowers the frame rate by itself; the PC also lowers
// JPEG quality when acks come back slowly and caps the rate at MaxFPS.

// ScreenOpen starts a screen stream.
type ScreenOpen struct {
	Monitor int  `json:"monitor"` // index into ScreenInfo.Monitors, or AllMonitors
	MaxFPS  int  `json:"max_fps"` // 1..60; 0 means DefaultMaxFPS
	Control bool `json:"control"` // input and clipboard accepted from the start
}

// AllMonitors asks for the bounding box of every monitor.
const AllMonitors = -1

// DefaultMaxFPS caps the frame rate when the technician chose nothing.
const DefaultMaxFPS = 30

// ScreenWindow is how many frames the PC sends ahead of the station's acks.
const ScreenWindow = 3

// ScreenHeader is the size of a binary message's header on a screen stream.
const ScreenHeader = 5

// MaxScreenControl bounds a control line from the station: the
// technician's clipboard text is the longest (the station sends none
// longer).
const MaxScreenControl = 1 << 20

// MaxScreenMessage bounds one binary message (a full 8K frame fits).
const MaxScreenMessage = 64 << 20

// Kinds of the PC's binary messages on a screen stream.
const (
	ScreenFrame     byte = 'F' // a frame: changed regions (core/wire/frame)
	ScreenInfoKind  byte = 'I' // JSON ScreenInfo: monitors, the captured size; sent first and on every change
	ScreenClipboard byte = 'C' // JSON ClipboardText: the PC's clipboard changed (only while Control is on)
	ScreenStopped   byte = 'S' // JSON ScreenStop: the view ended (the user stopped it, the desktop went away); the stream closes after it
)

// Monitor is one of the PC's monitors in virtual-desktop coordinates.
type Monitor struct {
	Name    string `json:"name"`
	X       int    `json:"x"`
	Y       int    `json:"y"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Primary bool   `json:"primary,omitempty"`
}

// ScreenInfo describes what the stream shows.
type ScreenInfo struct {
	Monitors []Monitor `json:"monitors"`
	Monitor  int       `json:"monitor"` // the one captured, or AllMonitors
	Width    int       `json:"width"`   // the captured image's size; frames cover it
	Height   int       `json:"height"`
	Desktop  string    `json:"desktop,omitempty"` // "default", "winlogon" (sign-in screen, UAC prompt)
	SAS      string    `json:"sas,omitempty"`     // why Ctrl+Alt+Del cannot be sent ("" when it can)
}

// ScreenStop says why the view ended.
type ScreenStop struct {
	Reason  string `json:"reason"`  // ScreenStoppedByUser, ScreenStoppedError
	Message string `json:"message"` // a sentence for the technician
}

// Reasons in ScreenStop.
const (
	ScreenStoppedByUser = "user"
	ScreenStoppedError  = "error"
)

// ClipboardText carries text clipboard contents either way.
type ClipboardText struct {
	Text string `json:"text"`
}

// ScreenControl is one line from the station on a screen stream; one field
// is set.
type ScreenControl struct {
	Ack       uint32      `json:"ack,omitempty"`       // frames up to this sequence number are shown
	Input     *InputEvent `json:"input,omitempty"`     // only honoured while Control is on
	Control   *bool       `json:"control,omitempty"`   // switch input and clipboard on or off
	MaxFPS    int         `json:"max_fps,omitempty"`   // a new cap, 1..60
	Monitor   *int        `json:"monitor,omitempty"`   // capture another monitor, or AllMonitors
	Clipboard *string     `json:"clipboard,omitempty"` // the technician's clipboard text (Control on)
	SAS       bool        `json:"sas,omitempty"`       // send Ctrl+Alt+Del (Control on)
	Refresh   bool        `json:"refresh,omitempty"`   // send a full frame next
}

// InputEvent is a mouse or keyboard event in the captured image's
// coordinates (the PC adds the monitor's origin).
type InputEvent struct {
	Kind   string `json:"kind"`        // one of the Input* kinds
	X      int    `json:"x,omitempty"` // InputMove, InputButton
	Y      int    `json:"y,omitempty"`
	Button int    `json:"button,omitempty"` // 1 left, 2 middle, 3 right
	Down   bool   `json:"down,omitempty"`   // InputButton, InputKey: pressed (true) or released
	DX     int    `json:"dx,omitempty"`     // InputWheel: notches (120 = one), right positive
	DY     int    `json:"dy,omitempty"`     // InputWheel: notches, up positive
	Key    string `json:"key,omitempty"`    // InputKey: a Key* name or one printable character
	Text   string `json:"text,omitempty"`   // InputText: text typed as Unicode
}

// Kinds of InputEvent.
const (
	InputMove   = "move"
	InputButton = "button"
	InputWheel  = "wheel"
	InputKey    = "key"
	InputText   = "text"
)

// Key names an InputEvent carries for keys that are not text. They follow
// Fyne's key names so the station passes them through; the PC maps them to
// virtual-key codes (Windows) or keysyms (X11).
const (
	KeyEscape    = "Escape"
	KeyReturn    = "Return"
	KeyTab       = "Tab"
	KeyBackspace = "BackSpace"
	KeyInsert    = "Insert"
	KeyDelete    = "Delete"
	KeyRight     = "Right"
	KeyLeft      = "Left"
	KeyDown      = "Down"
	KeyUp        = "Up"
	KeyPageUp    = "Prior"
	KeyPageDown  = "Next"
	KeyHome      = "Home"
	KeyEnd       = "End"
	KeySpace     = "Space"
	KeyShift     = "LeftShift"
	KeyControl   = "LeftControl"
	KeyAlt       = "LeftAlt"
	KeySuper     = "LeftSuper"
	// F1 … F12 are "F1" … "F12".
)
