package team

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// TestHubBucketsClosedToStations: the hub's own buckets hold credential
// hashes, who holds each station and who took over which session; an
// enrolled station's user JWT may not read them (direct get, message get,
// a consumer, a subscription to their subjects) nor write them. Each attempt is refused by the server
// (a permissions violation), and the record stays as the hub wrote it.
func TestHubBucketsClosedToStations(t *testing.T) {
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.EnsureTeam(ctx, "acme", 3); err != nil {
		t.Fatal(err)
	}
	b, err := srv.HubBuckets(ctx, time.Hour, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Stations.Put(ctx, "st.desk", []byte(`{"secret_hash":"00"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Where.Put(ctx, "desk", []byte("https://n1:443")); err != nil {
		t.Fatal(err)
	}

	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	j, err := srv.IssueUser("acme", "desk", pub, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	violations := make(chan string, 16)
	nc, err := nats.Connect(srv.ClientURL(), nats.UserJWT(func() (string, error) { return j, nil }, kp.Sign),
		nats.CustomInboxPrefix(InboxPrefix("desk")),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if strings.Contains(err.Error(), "Permissions Violation") {
				violations <- err.Error()
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	refused := func(what, subject string) {
		t.Helper()
		for {
			select {
			case v := <-violations:
				if strings.Contains(v, subject) {
					return
				}
			case <-ctx.Done(): // failsafe
				t.Fatalf("%s (%s) was not refused", what, subject)
			}
		}
	}
	if _, err := b.Takeovers.Put(ctx, "tk.desk.41", []byte(`{"taker":"other"}`)); err != nil {
		t.Fatal(err)
	}
	for _, bucket := range []string{StationsBucket, CodesBucket, WhereBucket, TakeoversBucket} {
		stream := "KV_" + bucket
		for what, subject := range map[string]string{
			"a direct get":      "$JS.API.DIRECT.GET." + stream + ".$KV." + bucket + ".st.desk",
			"a message get":     "$JS.API.STREAM.MSG.GET." + stream,
			"a consumer":        "$JS.API.CONSUMER.CREATE." + stream,
			"the stream's info": "$JS.API.STREAM.INFO." + stream,
			"a write":           "$KV." + bucket + ".st.desk",
		} {
			if err := nc.PublishRequest(subject, nc.NewRespInbox(), []byte(`{"last_by_subj":"$KV.`+bucket+`.st.desk"}`)); err != nil {
				t.Fatal(err)
			}
			refused(what+" on "+bucket, subject)
		}
		sub, err := nc.SubscribeSync("$KV." + bucket + ".>")
		if err != nil {
			t.Fatal(err)
		}
		refused("a subscription to "+bucket, "$KV."+bucket+".>")
		sub.Unsubscribe()
	}
	// Nor may it put itself in another's takeover.
	if err := nc.Publish("$KV."+TakeoversBucket+".tk.desk.41", []byte(`{"taker":"desk"}`)); err != nil {
		t.Fatal(err)
	}
	refused("a write of a takeover", "$KV."+TakeoversBucket+".tk.desk.41")
	// The station's own team bucket still works for it.
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, Bucket("acme"))
	if err != nil {
		t.Fatalf("the station's own team bucket: %v", err)
	}
	if _, err := kv.Get(ctx, ConfigKey); err != nil {
		t.Fatalf("the station's own team config: %v", err)
	}
	e, err := b.Stations.Get(ctx, "st.desk")
	if err != nil || string(e.Value()) != `{"secret_hash":"00"}` || e.Revision() != 1 {
		t.Fatalf("the hub's record after the station's tries: %v %v", e, err)
	}
	e, err = b.Takeovers.Get(ctx, "tk.desk.41")
	if err != nil || string(e.Value()) != `{"taker":"other"}` || e.Revision() != 1 {
		t.Fatalf("the hub's takeover after the station's tries: %v %v", e, err)
	}
}
