package mail

import (
	"encoding/json"

	"github.com/emersion/go-sasl"
)

// XOAuth2 is the SASL mechanism Microsoft 365 and Gmail document for SMTP
// with an OAuth 2.0 access token. go-sasl ships only OAUTHBEARER (RFC 7628).
const XOAuth2 = "XOAUTH2"

// xoauth2Client sends "user=<mailbox>^Aauth=Bearer <token>^A^A" as the
// initial response. On a refusal the server sends a JSON challenge and
// expects an empty answer before its final 535; that challenge is kept so
// the error can say what the server disliked.
type xoauth2Client struct {
	user, token string
	refusal     string
}

// NewXOAuth2Client returns a sasl.Client signing in as user with an OAuth
// 2.0 access token.
func NewXOAuth2Client(user, token string) sasl.Client {
	return &xoauth2Client{user: user, token: token}
}

func (c *xoauth2Client) Start() (string, []byte, error) {
	return XOAuth2, []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

// Next answers the server's error challenge with the empty response the
// mechanism requires; the server then ends the exchange with its error.
func (c *xoauth2Client) Next(challenge []byte) ([]byte, error) {
	var e struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(challenge, &e) == nil {
		c.refusal = e.Status
	}
	return []byte{}, nil
}
