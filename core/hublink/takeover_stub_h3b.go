package hublink

// STAND-IN (h3b): H1 builds the takeover API of /work/notes/takeover.md in
// this package; these are its names with the least behaviour that lets the
// taker side (core/pairing/takeover.go) compile and be tested before h1 is
// merged. The lead deletes this file when merging h1 and h3b. Not in here:
// the Owner field of ControlMessage (a field cannot be added from another
// file; proto.go has it), Link.take attaching the message to the stream
// and Deadlines forwarding it (H1's).

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
)

// PathTakeover: POST TakeoverRequest with the station's credential.
const PathTakeover = "/hub/v1/takeover"

// TakeoverRequest asks the hub to route the relays of the owner's session
// to the asking station (Release: back to the owner).
type TakeoverRequest struct {
	Owner   string `json:"owner"`
	Session string `json:"session"`
	Release bool   `json:"release"`
}

// Takeover registers (or releases) a takeover at the hub. A refusal is a
// *HubError.
func (l *Link) Takeover(ctx context.Context, owner, session string, release bool) error {
	body, _ := json.Marshal(TakeoverRequest{Owner: owner, Session: session, Release: release})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(l.Hub, "/")+PathTakeover, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = l.auth()
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	if resp.StatusCode != http.StatusNoContent {
		return hubError(resp.StatusCode, b)
	}
	return nil
}

// ControlOf finds the control message an accepted relay came with, through
// wrappers: Control() directly, or NetConn() (as *tls.Conn has).
func ControlOf(c net.Conn) (ControlMessage, bool) {
	for c != nil {
		if m, ok := c.(interface{ Control() ControlMessage }); ok {
			return m.Control(), true
		}
		n, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return ControlMessage{}, false
		}
		c = n.NetConn()
	}
	return ControlMessage{}, false
}
