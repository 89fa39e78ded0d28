package hubsrv_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"adhocstation/core/hublink"
	"adhocstation/core/team"
	"adhocstation/hub/hubsrv"
	"adhocstation/hub/hubtest"

	"github.com/nats-io/nkeys"
)

func userSeed(t *testing.T) []byte {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	return seed
}

// TestTeamCredentialAndRevoke: a station enrolled with a code of
// adhoc-hub enrol -team acme gets a NATS JWT, the team's URL and seats at
// PathTeam behind its hub credential; one enrolled without -team gets
// no_team; a wrong credential gets nothing. Revoking the team station
// refuses its credential everywhere (team, control) with the hub's
// sentence, survives a restart, and leaves the other station untouched.
func TestTeamCredentialAndRevoke(t *testing.T) {
	h := hubtest.Start(t, nil)
	ts := h.StartTeam(map[string]int{"acme": 2})
	ctx := context.Background()
	enrol := func(code string) hublink.EnrolResponse {
		t.Helper()
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hublink.Join(ctx, h.Client, h.URL, code, "desk", pub)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	inTeam, alone := enrol(h.TeamCode("acme")), enrol(h.Code())
	url := h.URL + hublink.PathTeam
	seed := userSeed(t)

	c, err := team.FetchCredential(ctx, h.Client, url, inTeam.Credential, seed)
	port := ts.ClientURL()[strings.LastIndex(ts.ClientURL(), ":")+1:]
	if err != nil || c.JWT == "" || c.Team != "acme" || c.Seats != 2 || len(c.URLs) != 1 || c.URLs[0] != "tls://127.0.0.1:"+port {
		t.Fatalf("the team station's credential: %+v, %v", c, err)
	}
	if _, err := team.FetchCredential(ctx, h.Client, url, alone.Credential, userSeed(t)); !errors.Is(err, team.ErrNoTeam) {
		t.Fatalf("a station of no team: %v, want ErrNoTeam", err)
	}
	if _, err := team.FetchCredential(ctx, h.Client, url, inTeam.StationID+".wrongsecret", seed); err == nil || !strings.Contains(err.Error(), "bad_credential") {
		t.Fatalf("a wrong credential: %v", err)
	}

	if err := h.Srv.Revoke(ctx, inTeam.StationID); err != nil {
		t.Fatal(err)
	}
	if err := h.Srv.Revoke(ctx, inTeam.StationID); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if err := h.Srv.Revoke(ctx, "nosuch"); !errors.Is(err, hubsrv.ErrUnknownStation) {
		t.Fatalf("revoking an unknown station: %v", err)
	}
	check := func(when string) {
		t.Helper()
		if _, err := team.FetchCredential(ctx, h.Client, url, inTeam.Credential, seed); !errors.Is(err, team.ErrRevoked) {
			t.Fatalf("%s: the revoked station's team credential: %v", when, err)
		}
		l := &hublink.Link{Hub: h.URL, Credential: inTeam.Credential, Client: h.Client}
		got := make(chan error, 1)
		l.OnState = func(up bool, err error) {
			if !up {
				select {
				case got <- err:
				default:
				}
			}
		}
		lctx, cancel := context.WithCancel(ctx)
		go l.Run(lctx)
		err := <-got
		cancel()
		l.Close()
		var he *hublink.HubError
		if !errors.As(err, &he) || he.Code != "station_revoked" || !strings.Contains(he.Message, "adhoc-hub enrol") {
			t.Fatalf("%s: the revoked station's control connection: %v", when, err)
		}
		if _, err := team.FetchCredential(ctx, h.Client, url, alone.Credential, userSeed(t)); !errors.Is(err, team.ErrNoTeam) {
			t.Fatalf("%s: the other station: %v", when, err)
		}
	}
	check("revoked")
	h.Restart()
	h.Client.CloseIdleConnections() // kept connections died with the old hub
	check("after a restart")
}
