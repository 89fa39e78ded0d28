package team_test

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"testing"
	"time"

	"adhocstation/core/team"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
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

// TestRevokedMemberForgotten: when the hub revokes kiosk, desk forgets its
// name and pin and its session lines; a presence of kiosk written after
// (here with a second key of kiosk's that was not revoked) does not bring it
// back; a station starting later with kiosk in its stored members drops it
// on the marker replayed at its start, though the presence comes after it
// in the bucket, and keeps its other stored members.
func TestRevokedMemberForgotten(t *testing.T) {
	srv := hub(t, 5)
	a := joinNamed(t, srv, srv.ClientURL(), "kiosk", "Kiosk", nil)
	b := joinNamed(t, srv, srv.ClientURL(), "desk", "Desk", nil)
	ctx := ctx10(t)
	if err := a.Publish(ctx, team.Entry{Session: "s1", PreparedBy: "Anna"}); err != nil {
		t.Fatal(err)
	}
	hasKiosk := func(m *member) bool { _, ok := m.Stations()["kiosk"]; return ok }
	kioskLines := func(m *member) int {
		n := 0
		for _, e := range m.List() {
			if e.Station == "kiosk" {
				n++
			}
		}
		return n
	}
	b.waitView(t, "kiosk's pin and line", func() bool { return b.Stations()["kiosk"].Pin == pinOf("kiosk") && kioskLines(b) == 1 })

	// A second key of kiosk's, signed before the revocation of the first.
	kp2, _ := nkeys.CreateUser()
	pub2, _ := kp2.PublicKey()
	jwt2, err := srv.IssueUser(teamID, "kiosk", pub2, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Revoke(ctx, "kiosk", a.userPub); err != nil {
		t.Fatal(err)
	}
	b.waitView(t, "kiosk forgotten", func() bool { return !hasKiosk(b) && kioskLines(b) == 0 })

	late, err := nats.Connect(srv.ClientURL(), nats.UserJWT(func() (string, error) { return jwt2, nil }, kp2.Sign),
		nats.CustomInboxPrefix(team.InboxPrefix("kiosk")), nats.NoReconnect())
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	for key, v := range map[string]string{
		"station.kiosk":    `{"station":"kiosk","name":"Kiosk","pin":"` + pinOf("kiosk") + `"}`,
		"session.kiosk.s2": `{"station":"kiosk","session":"s2","prepared_by":"Anna"}`,
	} {
		if _, err := late.RequestWithContext(ctx, "$KV."+team.Bucket(teamID)+"."+key, []byte(v)); err != nil {
			t.Fatalf("kiosk's late %s was not written: %v", key, err)
		}
	}
	// desk's watch reads the bucket in order: once it sees its own line
	// written after kiosk's, it has read kiosk's too.
	if err := b.Publish(ctx, team.Entry{Session: "s9", PreparedBy: "Bea"}); err != nil {
		t.Fatal(err)
	}
	b.waitView(t, "its own line", func() bool {
		return slices.ContainsFunc(b.List(), func(e team.Entry) bool { return e.Station == "desk" && e.Session == "s9" })
	})
	if hasKiosk(b) || kioskLines(b) != 0 {
		t.Fatalf("after kiosk's presence and line written since its revocation, desk knows kiosk: %v, shows %d of its lines (want neither)", hasKiosk(b), kioskLines(b))
	}

	c := joinCfg(t, srv, []string{srv.ClientURL()}, "office", 2*time.Second, func(c *team.Config) {
		c.KnownMembers = map[string]team.Member{
			"kiosk": {Name: "Kiosk", Pin: pinOf("kiosk")},
			"attic": {Name: "Attic", Pin: pinOf("attic")},
		}
	})
	st := c.Stations()
	if _, ok := st["kiosk"]; ok || kioskLines(c) != 0 {
		t.Fatalf("a station started after the revocation knows kiosk: %+v, lines %d", st["kiosk"], kioskLines(c))
	}
	if st["attic"].Pin != pinOf("attic") || st["desk"].Pin != pinOf("desk") {
		t.Fatalf("a station started after the revocation lost other members: %+v", st)
	}
}
