// Package wire holds the JSON types of the pairing API (/api/v1/) and the
// pairing details appended to the Support Session app's download. Both the
// station and the app import it; it imports nothing of the station, so the
// app stays free of SQLite and Fyne.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"
)

// APIPrefix is the versioned root of every pairing call.
const APIPrefix = "/api/v1/"

// The live channel (docs/PROTOCOL.md): GET APIPrefix+ChannelPath with
// "Upgrade: "+ChannelProtocol and "Authorization: Bearer AGENT_KEY"; a 101
// answer turns the TLS connection into a yamux session.
const (
	ChannelPath     = "channel"
	ChannelProtocol = "adhoc-channel/1"
)

// MaxRequestBytes caps every request body the station reads.
const MaxRequestBytes = 16 << 10

// Facts describe the PC that pairs.
type Facts struct {
	Hostname    string `json:"hostname"`
	OSName      string `json:"os_name"`    // e.g. "Windows 11 Pro"
	OSVersion   string `json:"os_version"` // e.g. "10.0.22631"
	Arch        string `json:"arch"`       // e.g. "amd64"
	WindowsUser string `json:"windows_user"`
	MachineID   string `json:"machine_id"`
}

// PairRequest is POST /api/v1/pair.
type PairRequest struct {
	Token string `json:"token"`
	Code  string `json:"code"`
	Facts Facts  `json:"facts"`
}

// Technician is who asked for access, shown on the app's consent screen.
type Technician struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// PairResponse is the answer to a right code from a Windows PC.
type PairResponse struct {
	SessionID  int64      `json:"session_id"`
	Technician Technician `json:"technician"`
	// AccountName is the remote user account to create (AdHocRemoteUser).
	AccountName string    `json:"account_name"`
	Password    string    `json:"password"`  // the technician's password for that account
	AgentKey    string    `json:"agent_key"` // credential for the later calls
	ActivatedAt time.Time `json:"activated_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	// RelayToken, when the app reached the station through a hub, is a
	// relay token whose exp is ExpiresAt exactly: the app dials the hub
	// with it from now on instead of the download's (docs/HUB.md).
	RelayToken string `json:"relay_token,omitempty"`
}

// AgentRequest is the body of confirm, heartbeat, end and cleanup.
type AgentRequest struct {
	AgentKey string `json:"agent_key"`
	Detail   string `json:"detail,omitempty"` // cleanup: what was removed
	// Activity is the PC's own account of the session (cleanup only;
	// the body may then be up to MaxReceiptBytes).
	Activity *Activity `json:"activity,omitempty"`
}

// StatusResponse answers heartbeat (and confirm/end/cleanup).
type StatusResponse struct {
	State     string    `json:"state"` // prepared, active, expired, ended, cancelled
	ExpiresAt time.Time `json:"expires_at"`
	// Connected is true while the technician has a remote session open.
	Connected bool `json:"connected"`
}

// Error codes a refusal carries.
const (
	CodeInvalidCode       = "invalid_code"
	CodeCodeBurned        = "code_burned"
	CodeNotWindows        = "not_windows"
	CodeInvitationExpired = "invitation_expired"
	CodeAlreadyPaired     = "already_paired"
	CodeRateLimited       = "rate_limited"
	CodeUnknownToken      = "unknown_token"
	CodeBadRequest        = "bad_request"
	CodeSessionClosed     = "session_closed"
	CodeInternal          = "internal"
	// CodeSessionEnded is the hub's refusal of a relay past the session's
	// end (its relay token expired): the session is over, as at expiry.
	CodeSessionEnded = "session_ended"
)

// Error is every refusal's body.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"` // a sentence the end user understands
	// AttemptsLeft is set with invalid_code.
	AttemptsLeft int `json:"attempts_left,omitempty"`
	// RetryAfterSeconds is set with rate_limited (also in Retry-After).
	RetryAfterSeconds int `json:"retry_after_seconds,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Details are the pairing details carried by a downloaded app, so the end
// user types nothing but the security code.
type Details struct {
	// StationURL is https://HOST:PORT of the pairing service.
	StationURL string `json:"station_url"`
	// Pins are base64 SHA-256 digests of the station's public key (SPKI);
	// two allow a certificate rotation.
	Pins  []string `json:"pins"`
	Token string   `json:"token"`
	// Technician is shown before the code is asked for.
	Technician Technician `json:"technician"`
	// Hub, when set, is the relay hub (https://HOST[:PORT]) the app dials
	// instead of StationURL, running the same pinned TLS inside the relay
	// (docs/HUB.md). Apps older than the hub ignore it and the token.
	Hub string `json:"hub,omitempty"`
	// RelayToken is the signed token for Hub's relay, valid until the
	// latest end the session can have (the invitation's expiry + 24 h).
	RelayToken string `json:"relay_token,omitempty"`
}

// trailerMagic ends a download that carries Details: the layout is
// exe bytes | JSON | 4-byte big-endian JSON length | magic.
var trailerMagic = []byte("ADHOC-SUPPORT-DETAILS-v1")

const maxDetailsBytes = 8 << 10

// AppendDetails returns exe with d appended as a trailer. Windows ignores
// bytes after the PE image, so the program still runs.
func AppendDetails(exe []byte, d Details) ([]byte, error) {
	js, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	if len(js) > maxDetailsBytes {
		return nil, errors.New("pairing details too large")
	}
	out := make([]byte, 0, len(exe)+len(js)+4+len(trailerMagic))
	out = append(out, exe...)
	out = append(out, js...)
	n := len(js)
	out = append(out, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	return append(out, trailerMagic...), nil
}

// ErrNoDetails means the file carries no pairing details (the app was not
// downloaded from a deployment link).
var ErrNoDetails = errors.New("this copy of the Support Session app has no pairing details; download it again from the link in the invitation email")

// ReadDetails finds the Details at the end of an app's bytes (its last
// TrailerReadSize bytes are enough): in the signature's padding of a signed
// app (tag.go), else in the trailer of an unsigned one.
func ReadDetails(tail []byte) (Details, error) {
	if bytes.HasSuffix(tail, tagMagic) {
		return readTag(tail)
	}
	var d Details
	if !bytes.HasSuffix(tail, trailerMagic) {
		return d, ErrNoDetails
	}
	end := len(tail) - len(trailerMagic)
	if end < 4 {
		return d, ErrNoDetails
	}
	n := int(tail[end-4])<<24 | int(tail[end-3])<<16 | int(tail[end-2])<<8 | int(tail[end-1])
	start := end - 4 - n
	if n <= 0 || n > maxDetailsBytes || start < 0 {
		return d, ErrNoDetails
	}
	if err := json.Unmarshal(tail[start:end-4], &d); err != nil {
		return d, ErrNoDetails
	}
	return d, nil
}

// TrailerReadSize is how many bytes from the end of the file ReadDetails
// needs at most: a signed app's whole certificate table with its tag.
const TrailerReadSize = maxTableBytes + maxDetailsBytes + 64

// Streams on the live channel. The station opens each stream; its first
// line is a JSON object, answered by one JSON line.

// SignIn opens a remote session: the PC checks the password against the
// hidden account itself.
type SignIn struct {
	Technician string `json:"technician"`
	Password   string `json:"password"`
	// Attach, instead of a password, joins a further stream to the
	// signed-in remote session whose SignInResult gave this key; it is
	// valid while that session's first stream is open.
	Attach  string      `json:"attach,omitempty"`
	Command *Command    `json:"command,omitempty"` // what the attached stream runs
	Screen  *ScreenOpen `json:"screen,omitempty"`  // or: a screen stream (screen.go)
	Chat    *ChatOpen   `json:"chat,omitempty"`    // or: the chat stream (chat.go)
	Files   *Files      `json:"files,omitempty"`   // or: a file operation (files.go)
}

// Command runs a command line as the hidden account, one stream per
// command. After the OK, the PC sends CommandFrame lines (output as it
// comes, then one with Done); the station may send one StopCommand line,
// and closing the stream also kills the process.
type Command struct {
	Shell string `json:"shell"` // ShellPowerShell or ShellCmd
	Line  string `json:"line"`
}

// The shells a Command can ask for.
const (
	ShellPowerShell = "powershell"
	ShellCmd        = "cmd"
)

// CommandFrame is one line from a running command: Output, or the end
// (Done with the exit code, or Error: a sentence for the technician).
type CommandFrame struct {
	Output string `json:"out,omitempty"`
	Done   bool   `json:"done,omitempty"`
	Exit   int    `json:"exit,omitempty"`
	Error  string `json:"error,omitempty"`
}

// MaxCommandLine bounds a CommandFrame line from the PC. The app sends
// each read of the process's pipes as it comes (os/exec copies 32 KiB at a
// time), at most 6 bytes a byte once JSON-escaped.
const MaxCommandLine = 1 << 20

// StopCommand is the station's line asking to kill a running command.
type StopCommand struct {
	Stop bool `json:"stop"`
}

// SignInResult answers SignIn; on OK the stream stays open for the
// remote session and its closing means the technician left.
type SignInResult struct {
	OK      bool   `json:"ok"`
	Code    string `json:"code,omitempty"`    // CodeWrongPassword or CodeInternal
	Message string `json:"message,omitempty"` // for the station's log, never with the password
	Key     string `json:"key,omitempty"`     // for Attach, on a password sign-in's OK
	// Streams, on a password sign-in's OK, lists the kinds of attached
	// streams the app serves (StreamCommand, ...). Apps older than the
	// list send none and serve only commands: they answer an attach of
	// another kind with CodeSessionClosed.
	Streams []string `json:"streams,omitempty"`
}

// The kinds of attached streams (SignInResult.Streams).
const (
	StreamCommand = "command"
	StreamFiles   = "files"
	StreamChat    = "chat"
	StreamScreen  = "screen"
)

// CodeWrongPassword refuses a sign-in whose password the account refused.
const CodeWrongPassword = "wrong_password"

// MaxStreamLine bounds a stream's JSON line.
const MaxStreamLine = 4 << 10

// After a sign-in is accepted, its stream carries requests: one JSON line
// each way at a time.

// Request asks the PC for something within a remote session.
type Request struct {
	Op string `json:"op"` // OpSystem
}

// OpSystem asks for SystemInfo.
const OpSystem = "system"

// Reply answers a Request: System for OpSystem, or Error.
type Reply struct {
	System *SystemInfo `json:"system,omitempty"`
	Error  string      `json:"error,omitempty"` // a sentence for the technician
}

// SystemInfo is the remote session's System tab.
type SystemInfo struct {
	ComputerName string      `json:"computer_name"`
	Edition      string      `json:"edition"` // e.g. Windows 11 Pro
	Build        string      `json:"build"`   // e.g. 10.0.22631.4460
	UptimeSec    int64       `json:"uptime_seconds"`
	CPU          string      `json:"cpu"`
	CPUs         int         `json:"cpus"`
	MemoryTotal  uint64      `json:"memory_total"` // bytes
	MemoryFree   uint64      `json:"memory_free"`
	Disks        []Disk      `json:"disks"`
	Users        []string    `json:"users"` // signed-in Windows users
	Addresses    []Interface `json:"addresses"`
}

// Disk is a drive and its space in bytes.
type Disk struct {
	Name  string `json:"name"` // C:\
	Total uint64 `json:"total"`
	Free  uint64 `json:"free"`
}

// Interface is a network adapter's addresses.
type Interface struct {
	Name      string   `json:"name"`
	Addresses []string `json:"addresses"`
}
