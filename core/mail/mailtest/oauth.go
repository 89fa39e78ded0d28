package mailtest

import (
	"bytes"
	"errors"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// XOAuth2 is the mechanism's name on the AUTH line.
const XOAuth2 = "XOAUTH2"

// AcceptTokens makes the server offer OAUTHBEARER and XOAUTH2 (or only
// those in OfferOnly) and accept a bearer token returned by valid for
// Username; PLAIN and LOGIN keep working with the password. valid sees
// every token presented, accepted or not.
func (s *Server) AcceptTokens(valid func(token string) bool) {
	s.mu.Lock()
	s.tokenOK = valid
	if s.mechs == nil {
		s.mechs = []string{sasl.OAuthBearer, XOAuth2, sasl.Plain, sasl.Login}
	}
	s.mu.Unlock()
}

// RefuseBasicAuth answers every PLAIN or LOGIN sign-in the way Exchange
// Online does once basic authentication for SMTP AUTH is off.
func (s *Server) RefuseBasicAuth() {
	s.mu.Lock()
	s.noBasic = true
	s.mu.Unlock()
}

var errBasicAuthOff = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 30},
	Message: "Basic authentication is not supported for Client Submission"}

func (ss *session) checkToken(user, token string) error {
	ss.s.mu.Lock()
	valid := ss.s.tokenOK
	ss.s.mu.Unlock()
	if valid == nil || user != Username || !valid(token) {
		return errAuthFailed
	}
	ss.user = user
	return nil
}

// xoauth2Server reads "user=U^Aauth=Bearer T^A^A"; a refusal is a JSON
// challenge, then (after the client's empty answer) the 535.
type xoauth2Server struct {
	check  func(user, token string) error
	failed error
}

func (x *xoauth2Server) Next(response []byte) ([]byte, bool, error) {
	if x.failed != nil {
		return nil, true, x.failed
	}
	if response == nil {
		return []byte{}, false, nil
	}
	var user, token string
	for _, part := range bytes.Split(response, []byte{1}) {
		k, v, _ := strings.Cut(string(part), "=")
		switch k {
		case "user":
			user = v
		case "auth":
			token, _ = strings.CutPrefix(v, "Bearer ")
		}
	}
	if user == "" || token == "" {
		return nil, true, errors.New("malformed XOAUTH2 response")
	}
	if err := x.check(user, token); err != nil {
		x.failed = err
		return []byte(`{"status":"401","schemes":"bearer","scope":"https://mail.example/"}`), false, nil
	}
	return nil, true, nil
}
