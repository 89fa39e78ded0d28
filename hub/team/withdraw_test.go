package team

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// TestRevokeWithdrawsNotices: revoking a station deletes the end requests
// and takeover notices it wrote (still waiting for an offline owner), and
// leaves another station's.
func TestRevokeWithdrawsNotices(t *testing.T) {
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.EnsureTeam(ctx, "acme", 3); err != nil {
		t.Fatal(err)
	}
	kv, err := srv.js.KeyValue(ctx, Bucket("acme"))
	if err != nil {
		t.Fatal(err)
	}
	gone := []string{"end.kiosk.1.lost", "took.kiosk.1.lost", "took.desk.7.lost"}
	kept := []string{"end.kiosk.2.desk", "took.kiosk.2.desk", "took.lost.3.desk"}
	for _, k := range append(append([]string{}, gone...), kept...) {
		if _, err := kv.Put(ctx, k, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	if err := srv.Revoke(ctx, "lost", pub); err != nil {
		t.Fatal(err)
	}
	for _, k := range gone {
		if _, err := kv.Get(ctx, k); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Errorf("%s after the revocation of lost: %v, want deleted", k, err)
		}
	}
	for _, k := range kept {
		if _, err := kv.Get(ctx, k); err != nil {
			t.Errorf("%s (not lost's) after the revocation of lost: %v", k, err)
		}
	}
}
