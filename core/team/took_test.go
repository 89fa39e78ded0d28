package team_test

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	"adhocstation/core/team"
)

func pinOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// joinNamed joins a station with a name and a pin, handing its takeover
// notices to notices (if set).
func joinNamed(t *testing.T, srv issuer, url, id, name string, notices chan team.TakeoverNotice) *member {
	t.Helper()
	return joinCfg(t, srv, []string{url}, id, 2*time.Second, func(c *team.Config) {
		c.Name, c.Pin = name, pinOf(id)
		if notices != nil {
			c.OnTakeover = func(n team.TakeoverNotice) { notices <- n }
		}
	})
}

func receiveNotice(t *testing.T, ch chan team.TakeoverNotice) team.TakeoverNotice {
	t.Helper()
	select {
	case n := <-ch:
		return n
	case <-time.After(20 * time.Second): // a failsafe for a hung test, not a measure
		t.Fatal("no takeover notice")
		return team.TakeoverNotice{}
	}
}

// TestStationsNamesAndPins: each station's presence carries its name and
// pin; the others list it by name, its sessions carry the name, a new pin
// reaches them, and a station whose lease ran out stays known (offline)
// with both.
func TestStationsNamesAndPins(t *testing.T) {
	srv := hub(t, 5)
	a := joinNamed(t, srv, srv.ClientURL(), "kiosk", "Front desk\x07 PC", nil)
	b := joinNamed(t, srv, srv.ClientURL(), "desk", "Back office", nil)
	if err := a.Publish(ctx10(t), team.Entry{Session: "s1", PreparedBy: "Anna"}); err != nil {
		t.Fatal(err)
	}
	b.waitView(t, "kiosk's name and pin", func() bool {
		m := b.Stations()["kiosk"]
		return m.Online && m.Name == "Front desk PC" && m.Pin == pinOf("kiosk")
	})
	if self := b.Stations()["desk"]; self.Name != "Back office" || self.Pin != pinOf("desk") {
		t.Fatalf("B's own line: %+v", self)
	}
	b.waitView(t, "kiosk's session with its name", func() bool {
		l := b.List()
		return len(l) == 1 && l[0].StationName == "Front desk PC"
	})
	// A new certificate: the others see the new pin.
	a.SetPin(pinOf("kiosk's new certificate"))
	b.waitView(t, "kiosk's new pin", func() bool { return b.Stations()["kiosk"].Pin == pinOf("kiosk's new certificate") })
	a.Close()
	b.waitView(t, "kiosk offline, still named", func() bool {
		m, ok := b.Stations()["kiosk"]
		return ok && !m.Online && m.Name == "Front desk PC" && m.Pin == pinOf("kiosk's new certificate")
	})
}

// TestTakeoverNoticeReachesOwner: desk announces that it took over a PC of
// kiosk's session: kiosk's watch hands the notice over with the taker from
// the key; once done the key is gone. A notice written while kiosk was
// offline reaches it when it joins again; a notice to a station by itself
// is refused.
func TestTakeoverNoticeReachesOwner(t *testing.T) {
	srv := hub(t, 5)
	notices := make(chan team.TakeoverNotice, 8)
	a := joinNamed(t, srv, srv.ClientURL(), "kiosk", "Kiosk", notices)
	b := joinNamed(t, srv, srv.ClientURL(), "desk", "Desk", nil)
	ctx := ctx10(t)
	if err := b.AnnounceTakeover(ctx, "kiosk", "12", "Bea Tech", "ANNA-PC"); err != nil {
		t.Fatal(err)
	}
	n := receiveNotice(t, notices)
	if n.Owner != "kiosk" || n.Session != "12" || n.Taker != "desk" || n.Technician != "Bea Tech" || n.Computer != "ANNA-PC" || n.At.IsZero() {
		t.Fatalf("the notice: %+v", n)
	}
	if err := a.DoneTakeover(ctx, n); err != nil {
		t.Fatal(err)
	}
	kv, err := b.NATS().JetStream()
	if err != nil {
		t.Fatal(err)
	}
	bucket, err := kv.KeyValue(team.Bucket(teamID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bucket.Get("took.kiosk.12.desk"); err == nil {
		t.Fatal("the notice is still in the bucket after DoneTakeover")
	}
	if err := b.AnnounceTakeover(ctx, "desk", "1", "Bea Tech", "PC"); err == nil {
		t.Fatal("a station announced a takeover of its own session")
	}

	// Offline: the notice waits for kiosk.
	a.Close()
	if err := b.AnnounceTakeover(ctx, "kiosk", "13", "Bea Tech", "OTTO-PC"); err != nil {
		t.Fatal(err)
	}
	again := make(chan team.TakeoverNotice, 8)
	joinNamed(t, srv, srv.ClientURL(), "kiosk", "Kiosk", again)
	if n := receiveNotice(t, again); n.Session != "13" || n.Taker != "desk" || n.Computer != "OTTO-PC" {
		t.Fatalf("the notice written while kiosk was offline: %+v", n)
	}
}
