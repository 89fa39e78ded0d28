package team_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"adhocstation/core/team"

	"github.com/nats-io/nkeys"
)

// TestCredentialOverHTTPS: the station fetches its user JWT from the hub's
// handler over TLS on loopback, with its hub credential; the JWT works for
// the team; a wrong credential and a revoked station are refused.
func TestCredentialOverHTTPS(t *testing.T) {
	srv := hub(t, 2)
	https := httptest.NewTLSServer(srv.CredentialHandler(func(r *http.Request) (string, string, error) {
		if r.Header.Get("Authorization") != "Bearer st-desk.secret" {
			return "", "", errors.New("unknown credential")
		}
		return "desk", teamID, nil
	}))
	t.Cleanup(https.Close)
	kp, _ := nkeys.CreateUser()
	seed, _ := kp.Seed()
	upub, _ := kp.PublicKey()
	fetch, err := team.FetchJWT(https.Client(), https.URL, "st-desk.secret", seed)
	if err != nil {
		t.Fatal(err)
	}
	c, err := team.Open(ctx10(t), team.Config{URLs: []string{srv.ClientURL()}, TeamID: teamID, StationID: "desk", UserSeed: seed, JWT: fetch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Prepare(ctx10(t), "s1", team.ProfileKey("a@example.org"), "A"); err != nil {
		t.Fatal(err)
	}
	bad, _ := team.FetchJWT(https.Client(), https.URL, "st-desk.wrong", seed)
	if _, err := bad(); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a wrong credential: %v", err)
	}
	if err := srv.Revoke(ctx10(t), "desk", upub); err != nil {
		t.Fatal(err)
	}
	if _, err := fetch(); !errors.Is(err, team.ErrRevoked) {
		t.Errorf("a revoked station's fetch: %v", err)
	}
}
