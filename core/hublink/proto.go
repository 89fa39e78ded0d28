// Package hublink is the station's side of the relay hub (hub/, docs/HUB.md)
// and the small protocol both sides share: the enrolment exchange, the
// control messages and the relay token. It imports nothing of the station,
// so the hub program builds from it without cgo.
package hublink

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// The hub's paths.
const (
	PathEnrol   = "/hub/v1/enrol"   // POST EnrolRequest → EnrolResponse
	PathControl = "/hub/v1/control" // WebSocket, Authorization: Bearer CREDENTIAL
	PathRelay   = "/relay/"         // + relay token: the app's WebSocket
	PathAccept  = "/relay/accept/"  // + relay id: the station's data WebSocket
	// PathStation + station id + "/" + PATH: a browser's request for the
	// station's web page PATH (join page, download), forwarded by the hub
	// to the station as plain HTTP in a data WebSocket (Link.HTTP).
	PathStation = "/st/"
	// PathTeam: POST {user_public_key} with the station's credential →
	// its team's NATS credential (hub/team.CredentialResponse), or 404
	// "no_team" for a station of no team (docs/TEAM.md).
	PathTeam = "/hub/v1/team/credential"
	// PathTakeover: POST TakeoverRequest with the station's credential →
	// 204, or a refusal (ErrorResponse): the hub hands the relays of
	// another station's session to this station (docs/HUB.md "Take over").
	PathTakeover = "/hub/v1/takeover"
)

// TakeoverRequest asks the hub to route the relays of session Session of
// station Owner (a station of the same team) to the asking station, or,
// with Release, to stop doing so.
type TakeoverRequest struct {
	Owner   string `json:"owner"`
	Session string `json:"session"`
	Release bool   `json:"release"`
}

// EnrolRequest redeems a one-time code the hub's admin printed.
type EnrolRequest struct {
	Code      string `json:"code"`
	PublicKey []byte `json:"public_key"` // the station's Ed25519 key that signs relay tokens
	Name      string `json:"name"`       // for the hub's admin only
}

// EnrolResponse gives the station its identity and credential on the hub.
// Credential is "STATIONID.SECRET"; the hub keeps only a hash of SECRET.
type EnrolResponse struct {
	StationID  string `json:"station_id"`
	Credential string `json:"credential"`
}

// ErrorResponse is the JSON body of every refusal the hub answers.
type ErrorResponse struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ControlMessage goes from the hub to the station on the control
// connection. Type "accept": an app is waiting on relay RelayID; type
// "http": a browser's request waits on RelayID. Either way the station
// opens PathAccept+RelayID to take it. Client is the app's or browser's
// address as the hub saw it (IP:port): the station's per-address limits
// count it, since every stream arrives from the hub. Owner is set on a
// relay the hub hands this station for another station's session (a take
// over): the owner's station id; Session is then the owner's session.
//
// DataKey, on an "accept", offers a plain data leg: instead of the data
// WebSocket the station may dial the hub's port over TCP and send
// PlainHello + RelayID + " " + DataKey + "\n"; the hub answers PlainOK
// and the connection is the relay from there. The station's end of the
// relay is then carried as on a direct connection: only the pinned TLS
// 1.3 between app and station protects it, which is all the hub ever
// sees of it anyway, and the bytes are sealed three times fewer on the
// station's side (docs/HUB.md "Plain data legs"). DataKey is single-use
// and sent only inside the control connection's TLS.
type ControlMessage struct {
	Type    string `json:"type"`
	RelayID string `json:"relay_id,omitempty"`
	Session string `json:"session,omitempty"`
	Client  string `json:"client,omitempty"`
	Owner   string `json:"owner,omitempty"`
	DataKey string `json:"data_key,omitempty"`
}

// The plain data leg's greeting and the hub's answer. The first byte of a
// plain leg is never 0x16, a TLS handshake's, which is how the hub's one
// port tells the two apart.
const (
	PlainHello = "ADHOC-DATA/1 "
	PlainOK    = "ADHOC-OK\n"
)

// Claims are what a relay token says. Exp is the session's end (Unix
// seconds): the hub refuses the relay after it even if the station is down.
type Claims struct {
	Station string `json:"st"`
	Session string `json:"sid"`
	Exp     int64  `json:"exp"`
}

// tokenContext separates relay-token signatures from anything else the
// station's key might ever sign.
const tokenContext = "adhoc-relay-token/1\n"

// SignToken makes a relay token: base64url(claims JSON) "." base64url(sig),
// sig = Ed25519 over tokenContext + the first part.
func SignToken(key ed25519.PrivateKey, c Claims) string {
	body, _ := json.Marshal(c) // plain strings and an int: cannot fail
	p := base64.RawURLEncoding.EncodeToString(body)
	sig := ed25519.Sign(key, []byte(tokenContext+p))
	return p + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// Token is a relay token read but not yet verified.
type Token struct {
	Claims
	payload string
	sig     []byte
}

// ErrBadToken is any token that cannot be read.
var ErrBadToken = errors.New("hublink: malformed relay token")

// ReadToken parses a token without trusting it: the hub needs its station id
// to find the key that verifies it.
func ReadToken(tok string) (*Token, error) {
	if len(tok) > 1024 {
		return nil, ErrBadToken
	}
	p, s, ok := strings.Cut(tok, ".")
	if !ok {
		return nil, ErrBadToken
	}
	body, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return nil, ErrBadToken
	}
	sig, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, ErrBadToken
	}
	t := &Token{payload: p, sig: sig}
	if err := json.Unmarshal(body, &t.Claims); err != nil || t.Station == "" || t.Session == "" {
		return nil, ErrBadToken
	}
	return t, nil
}

// Verify reports whether pub signed the token.
func (t *Token) Verify(pub ed25519.PublicKey) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, []byte(tokenContext+t.payload), t.sig)
}

// Expired reports whether the session's end has passed at now.
func (t *Token) Expired(now time.Time) bool { return now.Unix() >= t.Exp }
