// Package core owns the station's domain: profiles, seats, sessions, security
// codes, passwords, expiry, the SQLite store, the audit log and the event feed.
// Nothing under core imports Fyne; the UI and the pairing service drive it
// through *Station.
package core

import (
	"strings"
	"time"
)

// State is where a session is in its lifecycle (see DESIGN.md).
type State string

const (
	StatePrepared  State = "prepared"
	StateActive    State = "active"
	StateExpired   State = "expired"
	StateEnded     State = "ended"
	StateCancelled State = "cancelled"
)

// Open reports whether a session in this state still occupies a seat.
func (s State) Open() bool { return s == StatePrepared || s == StateActive }

// Profile is a technician identity on the station.
type Profile struct {
	ID        int64
	Name      string
	Email     string
	CreatedAt time.Time
}

// Session is one ad hoc support session as the station sees it.
type Session struct {
	ID          int64
	ProfileID   int64
	ProfileName string
	// ProfileEmail is the technician's address (the invitation's Reply-To).
	ProfileEmail string
	UserEmail    string
	State        State
	// Token is the unguessable part of the deployment link. It is known only
	// while the session is prepared (the store keeps a keyed hash, and a
	// sealed copy until the session leaves prepared); empty afterwards.
	Token     string
	CreatedAt time.Time
	// InviteExpiresAt is when a prepared session is cancelled if nobody pairs.
	InviteExpiresAt time.Time
	ActivatedAt     time.Time // zero until paired
	ExpiresAt       time.Time // ActivatedAt + SessionLength; zero until paired
	ClosedAt        time.Time // zero while open
	CloseReason     string    // "technician", "end user", "invitation timed out", ...
	// CodeAttemptsLeft counts wrong security-code tries still allowed.
	CodeAttemptsLeft int
	Computer         *Computer // nil until paired
	Email            EmailStatus
	// ViaHub is the relay hub the PC paired through (https://HOST[:PORT]),
	// "" when it paired directly or has not paired.
	ViaHub string
	// InviteHub is the relay hub the newest invitation's link leads to
	// (https://HOST[:PORT]), "" when it leads to this station directly.
	InviteHub string
}

// CodeBurned reports whether the security code can no longer be used.
func (s Session) CodeBurned() bool { return s.State == StatePrepared && s.CodeAttemptsLeft <= 0 }

// ClosedText says how a closed session closed, naming its state once,
// whichever interface closed it: "cancelled by the technician", "ended by
// the end user", "cancelled (invitation timed out)". A reason that does not
// begin with the state follows it in brackets.
func (s Session) ClosedText() string {
	state := string(s.State)
	switch {
	case s.CloseReason == "":
		return state
	case s.CloseReason == state || strings.HasPrefix(s.CloseReason, state+" "):
		return s.CloseReason
	}
	return state + " (" + s.CloseReason + ")"
}

// TimeLeft is the time until the session's deadline: the invitation timeout
// while prepared, the 24-hour window while active, zero otherwise.
func (s Session) TimeLeft(now time.Time) time.Duration {
	var d time.Duration
	switch s.State {
	case StatePrepared:
		d = s.InviteExpiresAt.Sub(now)
	case StateActive:
		d = s.ExpiresAt.Sub(now)
	}
	if d < 0 {
		return 0
	}
	return d
}

// Computer is the PC paired to a session.
type Computer struct {
	Hostname    string
	OSName      string
	OSVersion   string
	Arch        string
	WindowsUser string
	MachineID   string
	Online      bool
	LastSeen    time.Time
	// AccountReady is set once the PC confirmed the remote user account exists.
	AccountReady bool
	// CleanedUp is set when the PC's cleanup receipt arrived.
	CleanedUp bool
}

// EmailState is where a session's invitation is in the outbox.
type EmailState string

const (
	EmailQueued        EmailState = "queued"
	EmailSent          EmailState = "sent"
	EmailFailed        EmailState = "failed"
	EmailNotConfigured EmailState = "not_configured"
)

// EmailStatus is the invitation's delivery state as shown to the technician.
type EmailStatus struct {
	State     EmailState
	Attempts  int
	LastError string // the server's reply for failures
	SentAt    time.Time
}

// RetryText is what the technician reads about an invitation still queued
// after a try failed: the outbox's sentence (why, and when the next try
// is), after "Not sent yet.". It is "" for any other invitation. The
// window's code panel and the command line both show it.
func (e EmailStatus) RetryText() string {
	if e.State != EmailQueued || e.LastError == "" {
		return ""
	}
	return "Not sent yet. " + e.LastError
}

// SMTPSecurity is how the station talks to its SMTP server.
type SMTPSecurity string

const (
	SMTPStartTLS SMTPSecurity = "starttls" // port 587
	SMTPTLS      SMTPSecurity = "tls"      // implicit TLS, port 465
	SMTPPlain    SMTPSecurity = "none"     // loopback hosts only
)

// SMTPAuth is how the station signs in to its SMTP server.
type SMTPAuth string

const (
	SMTPAuthPassword  SMTPAuth = ""             // user name and password (PLAIN or LOGIN)
	SMTPAuthMicrosoft SMTPAuth = "microsoft365" // OAuth 2.0 client credentials of an Entra app
	SMTPAuthGoogle    SMTPAuth = "google"       // OAuth 2.0 Google service account, domain-wide delegation
)

// SMTPSettings configure the outbox's server. Secrets are kept apart, in
// the OS keyring or sealed: the password (SetSMTPPassword), the client
// secret (SetSMTPClientSecret), the Google service account key file
// (SetGoogleServiceAccountKey).
type SMTPSettings struct {
	Host     string
	Port     int
	Security SMTPSecurity
	Auth     SMTPAuth
	Username string // with OAuth, the mailbox the station sends as
	Sender   string // From address of invitations
	CAFile   string // one extra CA certificate (PEM) for in-house servers
	// Microsoft 365: the tenant (ID or domain) and the app's client ID.
	// TokenURL replaces Microsoft's token endpoint when set (tests, national clouds).
	Tenant   string
	ClientID string
	TokenURL string
}

// Configured reports whether a server has been set up at all.
func (s SMTPSettings) Configured() bool { return s.Host != "" }

// PairingSettings configure the embedded HTTPS pairing service.
type PairingSettings struct {
	ListenAddr string // default ":8443"
	PublicHost string // host name used in deployment links
	PublicPort int    // port used in links; defaults to the listen port
	CertFile   string // optional organisation certificate (PEM)
	KeyFile    string // and its key (PEM)
}

// Settings are the station's persisted settings.
type Settings struct {
	Seats             int
	InvitationTimeout time.Duration
	SMTP              SMTPSettings
	Pairing           PairingSettings
	Recording         RecordingSettings
}

// RecordingSettings say whether remote sessions are recorded
// (recording.go) and for how long recordings are kept.
type RecordingSettings struct {
	Enabled   bool
	Retention time.Duration
}

// DefaultSettings are what a fresh station starts with.
func DefaultSettings() Settings {
	return Settings{
		Seats:             5,
		InvitationTimeout: time.Hour,
		SMTP:              SMTPSettings{Port: 587, Security: SMTPStartTLS},
		Pairing:           PairingSettings{ListenAddr: ":8443", PublicHost: "localhost"}, // no public port: links follow the listen port
		Recording:         RecordingSettings{Enabled: true, Retention: DefaultRetention},
	}
}

// SessionLength is how long a session stays active after activation.
const SessionLength = 24 * time.Hour

// MaxCodeAttempts is how many wrong codes burn a security code.
const MaxCodeAttempts = 5

// ComputerFacts is what the Support Session app reports about its PC.
type ComputerFacts struct {
	Hostname    string
	OSName      string // e.g. "Windows 11 Pro"
	OSVersion   string // e.g. "10.0.22631"
	Arch        string
	WindowsUser string
	MachineID   string
}

// AuditEntry is one row of the append-only, hash-chained audit log.
type AuditEntry struct {
	ID        int64
	At        time.Time
	ProfileID int64 // 0 when not about a profile
	SessionID int64 // 0 when not about a session
	Event     string
	Detail    string
	PrevHash  string
	Hash      string
}
