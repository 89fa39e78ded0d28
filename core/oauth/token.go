// Package oauth gets OAuth 2.0 access tokens for signing in to a mail
// server: Microsoft's client-credentials flow and Google's service-account
// flow (a JWT bearer grant), cached until shortly before they expire.
//
// It is small own code on net/http rather than golang.org/x/oauth2, whose
// token expiry and JWT times read the wall clock: here the clock is
// injected, so expiry and refresh are tested without sleeping.
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Token is an access token and when it stops working.
type Token struct {
	AccessToken string
	Expiry      time.Time
}

// Flow fetches a new token; now is the injected clock's time.
type Flow interface {
	fetch(ctx context.Context, hc *http.Client, now time.Time) (Token, error)
}

// refreshMargin: a cached token is replaced this long before it expires,
// so a token never runs out in the middle of an SMTP exchange.
const refreshMargin = 5 * time.Minute

// Source hands out a cached token and fetches a new one when the cached
// one is within refreshMargin of expiring. Safe for concurrent use: one
// fetch at a time.
type Source struct {
	flow Flow
	hc   *http.Client
	now  func() time.Time

	mu  sync.Mutex
	tok Token
}

// NewSource caches the tokens of flow. hc nil means http.DefaultClient;
// now nil means time.Now.
func NewSource(flow Flow, hc *http.Client, now func() time.Time) *Source {
	if hc == nil {
		hc = http.DefaultClient
	}
	if now == nil {
		now = time.Now
	}
	return &Source{flow: flow, hc: hc, now: now}
}

// Token returns a token valid for at least refreshMargin (or until its
// expiry for tokens issued for less), fetching one if needed. Errors are
// *Error for an answer from the token endpoint, or the network's error.
func (s *Source) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.tok.AccessToken != "" && now.Add(refreshMargin).Before(s.tok.Expiry) {
		return s.tok.AccessToken, nil
	}
	tok, err := s.flow.fetch(ctx, s.hc, now)
	if err != nil {
		return "", err
	}
	s.tok = tok
	return tok.AccessToken, nil
}

// Forget drops the cached token, e.g. after the mail server refused it.
func (s *Source) Forget() {
	s.mu.Lock()
	s.tok = Token{}
	s.mu.Unlock()
}

// Error is the token endpoint's refusal (RFC 6749 section 5.2).
type Error struct {
	Endpoint    string // the token URL
	Status      int    // HTTP status
	Code        string // "invalid_client", "unauthorized_client", ...
	Description string // error_description, as sent
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("the token endpoint %s refused: %s", e.Endpoint, e.Code)
	if e.Code == "" {
		msg = fmt.Sprintf("the token endpoint %s answered HTTP %d", e.Endpoint, e.Status)
	}
	if e.Description != "" {
		// Microsoft adds trace and correlation IDs on later lines.
		first, _, _ := strings.Cut(e.Description, "\n")
		msg += " (" + strings.TrimSpace(first) + ")"
	}
	return msg
}

// Temporary reports whether asking again later may help: the endpoint's
// own trouble, not a refusal of the credentials.
func (e *Error) Temporary() bool { return e.Status >= 500 || e.Status == http.StatusTooManyRequests }

// postForm asks the token endpoint for a token with form and reads the
// answer. A token with no expires_in is kept for an hour at most.
func postForm(ctx context.Context, hc *http.Client, endpoint string, form url.Values, now time.Time) (Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return Token{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Token{}, err
	}
	var answer struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"` // a number, or a string at some providers
		Error       string          `json:"error"`
		Description string          `json:"error_description"`
	}
	jsonErr := json.Unmarshal(body, &answer)
	if resp.StatusCode != http.StatusOK || answer.Error != "" {
		return Token{}, &Error{Endpoint: endpoint, Status: resp.StatusCode, Code: answer.Error, Description: answer.Description}
	}
	if jsonErr != nil || answer.AccessToken == "" {
		return Token{}, errors.New("the token endpoint " + endpoint + " answered without an access token")
	}
	life := time.Hour
	var secs json.Number
	if json.Unmarshal(answer.ExpiresIn, &secs) == nil || json.Unmarshal(unquote(answer.ExpiresIn), &secs) == nil {
		if n, err := secs.Int64(); err == nil && n > 0 {
			life = time.Duration(n) * time.Second
		}
	}
	return Token{AccessToken: answer.AccessToken, Expiry: now.Add(life)}, nil
}

func unquote(raw json.RawMessage) []byte {
	return []byte(strings.Trim(string(raw), `"`))
}
