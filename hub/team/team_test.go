package team

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// TestRevocationSurvivesRestart: keys are made once (0600) and read back;
// a station revoked before a restart cannot connect with its old JWT after
// it, and gets no new one; another station still connects.
func TestRevocationSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	keys, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(Config{StateDir: dir, Port: -1}, keys)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.EnsureTeam(ctx, "acme", 3); err != nil {
		t.Fatal(err)
	}
	user := func(id string) (nkeys.KeyPair, string) {
		kp, _ := nkeys.CreateUser()
		p, _ := kp.PublicKey()
		return kp, p
	}
	lostKP, lostPub := user("lost")
	lostJWT, err := srv.IssueUser("acme", "lost", lostPub, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Revoke(ctx, "lost", lostPub); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown()

	st, err := os.Stat(filepath.Join(dir, "team", "keys.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("keys.json: %v %v", st, err)
	}
	again, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.AccountPublicKey() != keys.AccountPublicKey() {
		t.Fatal("the keys changed across a restart")
	}
	srv, err = Start(Config{StateDir: dir, Port: -1}, again)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	connect := func(j string, kp nkeys.KeyPair, id string) error {
		nc, err := nats.Connect(srv.ClientURL(), nats.UserJWT(func() (string, error) { return j, nil }, kp.Sign),
			nats.CustomInboxPrefix(InboxPrefix(id)), nats.NoReconnect())
		if err == nil {
			nc.Close()
		}
		return err
	}
	if err := connect(lostJWT, lostKP, "lost"); err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Fatalf("the revoked station's old JWT after a restart: %v, want an authorization refusal", err)
	}
	if _, err := srv.IssueUser("acme", "lost", lostPub, time.Hour); err != ErrStationRevoked {
		t.Fatalf("a new JWT for a revoked station: %v", err)
	}
	okKP, okPub := user("desk")
	okJWT, err := srv.IssueUser("acme", "desk", okPub, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := connect(okJWT, okKP, "desk"); err != nil {
		t.Fatalf("a station in good standing: %v", err)
	}
	// An expired JWT is refused by the server itself.
	oldJWT, err := srv.IssueUser("acme", "desk", okPub, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := connect(oldJWT, okKP, "desk"); err == nil {
		t.Fatal("an expired JWT was accepted")
	}
}

func TestIssueUserRefusesBadIDs(t *testing.T) {
	dir := t.TempDir()
	keys, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(Config{StateDir: dir, Port: -1}, keys)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	kp, _ := nkeys.CreateUser()
	p, _ := kp.PublicKey()
	for _, c := range [][2]string{{"acme", "a.b"}, {"ac>me", "desk"}, {"acme", "*"}, {"", "desk"}} {
		if _, err := srv.IssueUser(c[0], c[1], p, time.Hour); err == nil {
			t.Errorf("IssueUser(%q, %q) was accepted: the id would widen the subject permissions", c[0], c[1])
		}
	}
	acc, _ := nkeys.CreateAccount()
	ap, _ := acc.PublicKey()
	if _, err := srv.IssueUser("acme", "desk", ap, time.Hour); err == nil {
		t.Error("IssueUser for an account key was accepted")
	}
}

// TestStaleKeysFileKeepsRevocation: a node whose keys.json lacks a
// revocation (a stale copy, or one made through another node) still keeps
// it: the account JWT its resolver stored carries it, and the JWT signed at
// start merges it in.
func TestStaleKeysFileKeepsRevocation(t *testing.T) {
	dir := t.TempDir()
	keys, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(Config{StateDir: dir, Port: -1}, keys)
	if err != nil {
		t.Fatal(err)
	}
	kp, _ := nkeys.CreateUser()
	upub, _ := kp.PublicKey()
	old, err := srv.IssueUser("acme", "lost", upub, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Revoke(ctx, "lost", upub); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown()
	// Make keys.json forget the revocation.
	stale, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	stale.f.Revoked, stale.f.RevokedStations = map[string]int64{}, map[string]int64{}
	if err := stale.save(); err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.f.Revoked) != 0 {
		t.Fatal("the stale keys file still has the revocation: the test would prove nothing")
	}
	srv, err = Start(Config{StateDir: dir, Port: -1}, again)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL(), nats.UserJWT(func() (string, error) { return old, nil }, kp.Sign),
		nats.CustomInboxPrefix(InboxPrefix("lost")), nats.NoReconnect())
	if err == nil {
		nc.Close()
		t.Fatal("the revoked JWT was accepted after a start with a stale keys file")
	}
	if _, err := srv.IssueUser("acme", "lost", upub, time.Hour); err == nil {
		t.Fatal("a new JWT was issued to the revoked key")
	}
}
