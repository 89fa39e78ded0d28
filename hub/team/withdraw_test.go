package team

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// startAcme starts a team server with team acme (3 seats) and returns it,
// a context of timeout and acme's bucket; all end with the test.
func startAcme(t *testing.T, timeout time.Duration) (*Server, context.Context, jetstream.KeyValue) {
	t.Helper()
	dir := t.TempDir()
	keys, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(Config{StateDir: dir, Port: -1}, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	if err := srv.EnsureTeam(ctx, "acme", 3); err != nil {
		t.Fatal(err)
	}
	kv, err := srv.js.KeyValue(ctx, Bucket("acme"))
	if err != nil {
		t.Fatal(err)
	}
	return srv, ctx, kv
}

// TestRevokeWithdrawsNotices: revoking a station deletes the end requests
// and takeover notices it wrote (still waiting for an offline owner), and
// leaves another station's.
func TestRevokeWithdrawsNotices(t *testing.T) {
	srv, ctx, kv := startAcme(t, 10*time.Second)
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

// TestRevokeMarksStation: revoking a station writes revoked.<station> (the
// time) in its team's bucket, kept at a second revocation, and deletes its
// presence and its session lines, not another station's; a station's own
// credential can neither write nor delete a revoked.* key, by any path.
func TestRevokeMarksStation(t *testing.T) {
	srv, ctx, kv := startAcme(t, 20*time.Second)
	gone := []string{"station.lost", "session.lost.1", "session.lost.2"}
	kept := []string{"station.desk", "session.desk.1", "station.lost2", "session.lost2.1"}
	for _, k := range append(append([]string{}, gone...), kept...) {
		if _, err := kv.Put(ctx, k, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	// desk: a station of the team, connected with its own credential.
	deskKP, _ := nkeys.CreateUser()
	deskPub, _ := deskKP.PublicKey()
	deskJWT, err := srv.IssueUser("acme", "desk", deskPub, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(srv.ClientURL(), nats.UserJWT(func() (string, error) { return deskJWT, nil }, deskKP.Sign),
		nats.CustomInboxPrefix(InboxPrefix("desk")), nats.NoReconnect(),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})) // the denials below are expected
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	lostKP, _ := nkeys.CreateUser()
	lostPub, _ := lostKP.PublicKey()
	before := time.Now().Add(-time.Second)
	if err := srv.Revoke(ctx, "lost", lostPub); err != nil {
		t.Fatal(err)
	}
	mark, err := kv.Get(ctx, RevokedPrefix+"lost")
	if err != nil {
		t.Fatalf("no revoked.lost after the revocation: %v", err)
	}
	if at, err := time.Parse(time.RFC3339, string(mark.Value())); err != nil || at.Before(before) || at.After(time.Now()) {
		t.Fatalf("revoked.lost = %q (%v), want the time of the revocation", mark.Value(), err)
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
	// The hub revokes each key a station had: the marker keeps the first.
	other, _ := nkeys.CreateUser()
	otherPub, _ := other.PublicKey()
	if err := srv.Revoke(ctx, "lost", otherPub); err != nil {
		t.Fatal(err)
	}
	if again, err := kv.Get(ctx, RevokedPrefix+"lost"); err != nil || again.Revision() != mark.Revision() {
		t.Fatalf("revoked.lost after a second revocation: %v (revision %d, was %d)", err, again.Revision(), mark.Revision())
	}

	// The control: desk's writes are acked where it may write.
	djs, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	dkv, err := djs.KeyValue(ctx, Bucket("acme"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dkv.Put(ctx, "session.desk.2", []byte(`{}`)); err != nil {
		t.Fatalf("desk could not write its own session line: %v", err)
	}
	// A denied publish is dropped by the server, so no ack comes: each
	// try waits for one a short while.
	denied := func(what string, try func(context.Context) error) {
		t.Helper()
		rctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		if err := try(rctx); err == nil {
			t.Errorf("desk could %s", what)
		}
	}
	denied("delete revoked.lost", func(c context.Context) error { return dkv.Delete(c, RevokedPrefix+"lost") })
	denied("purge revoked.lost", func(c context.Context) error { return dkv.Purge(c, RevokedPrefix+"lost") })
	denied("overwrite revoked.lost", func(c context.Context) error {
		_, err := dkv.Put(c, RevokedPrefix+"lost", []byte("x"))
		return err
	})
	denied("mark itself revoked", func(c context.Context) error {
		_, err := dkv.Create(c, RevokedPrefix+"desk", []byte("x"))
		return err
	})
	denied("mark another station revoked", func(c context.Context) error {
		_, err := dkv.Create(c, RevokedPrefix+"lost2", []byte("x"))
		return err
	})
	denied("purge the stream's revoked.* keys", func(c context.Context) error {
		_, err := nc.RequestWithContext(c, "$JS.API.STREAM.PURGE.KV_"+Bucket("acme"), []byte(`{"filter":"$KV.`+Bucket("acme")+`.revoked.>"}`))
		return err
	})
	denied("delete the marker's message", func(c context.Context) error {
		_, err := nc.RequestWithContext(c, "$JS.API.STREAM.MSG.DELETE.KV_"+Bucket("acme"), []byte(`{"seq":`+strconv.FormatUint(mark.Revision(), 10)+`}`))
		return err
	})
	if e, err := kv.Get(ctx, RevokedPrefix+"lost"); err != nil || e.Revision() != mark.Revision() {
		t.Fatalf("revoked.lost after desk's tries: %v", err)
	}
	for _, k := range []string{"desk", "lost2"} {
		if _, err := kv.Get(ctx, RevokedPrefix+k); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Errorf("revoked.%s written by desk: %v", k, err)
		}
	}
}
