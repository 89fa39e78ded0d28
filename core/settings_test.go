package core_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

func TestAdoptPublicHost(t *testing.T) {
	ctx := t.Context()
	st, _ := coretest.Open(t)
	if ok, err := st.AdoptPublicHost(ctx, "https://bad host"); ok || !errors.Is(err, core.ErrInvalidSetting) {
		t.Fatalf("invalid host: changed %v, err %v", ok, err)
	}
	if ok, err := st.AdoptPublicHost(ctx, "10.1.2.3"); !ok || err != nil {
		t.Fatalf("first start: changed %v, err %v", ok, err)
	}
	_, prep := coretest.MustPrepare(t, st, "Ana", "ana@example.com")
	if !strings.HasPrefix(prep.Link, "https://10.1.2.3:8443/join/") {
		t.Errorf("link %q does not use the adopted host", prep.Link)
	}
	// Once settings exist, the technician's choice is never overwritten.
	set, _ := st.Settings(ctx)
	set.Pairing.PublicHost = "station.example.com"
	if err := st.SaveSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.AdoptPublicHost(ctx, "10.9.9.9"); ok || err != nil {
		t.Fatalf("after a save: changed %v, err %v", ok, err)
	}
	if set, _ = st.Settings(ctx); set.Pairing.PublicHost != "station.example.com" {
		t.Errorf("public host = %q", set.Pairing.PublicHost)
	}
	if h := core.DetectPublicHost(); h == "" || strings.Contains(h, "/") {
		t.Errorf("DetectPublicHost = %q", h)
	}
}

// Every wrong field is refused by one validation, so the Settings page can
// show each message beside its field without validating again.
func TestSettingsEveryFieldAtOnce(t *testing.T) {
	ctx := t.Context()
	st, _ := coretest.Open(t)
	set := core.DefaultSettings()
	set.Seats = 0
	set.InvitationTimeout = time.Minute
	set.SMTP = core.SMTPSettings{Host: "mail.example.com", Port: 0, Security: "carrier pigeon", Sender: "nobody", CAFile: "/nope/ca.pem"}
	set.Pairing = core.PairingSettings{ListenAddr: "8443", PublicHost: "https://x", PublicPort: 70000, CertFile: "/nope/cert.pem"}
	err := st.SaveSettings(ctx, set)
	want := []core.SettingField{core.FieldSeats, core.FieldInvitationTimeout, core.FieldSMTPPort, core.FieldSMTPSecurity,
		core.FieldSender, core.FieldCAFile, core.FieldListenAddr, core.FieldPublicHost, core.FieldPublicPort, core.FieldCertificate}
	var got []core.SettingField
	for _, se := range core.SettingErrors(err) {
		got = append(got, se.Field)
		if !strings.HasSuffix(se.Reason, ".") || strings.ToUpper(se.Reason[:1]) != se.Reason[:1] {
			t.Errorf("%s: %q is not a sentence", se.Field, se.Reason)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("refused fields %q, want %q (err: %v)", got, want, err)
	}
	if !errors.Is(err, core.ErrInvalidSetting) {
		t.Errorf("%v does not match ErrInvalidSetting", err)
	}
	if saved, _ := st.Settings(ctx); saved != core.DefaultSettings() {
		t.Errorf("refused settings were saved: %+v", saved)
	}
}

// TestFollowListenPort: only a public port that repeats the listen port's
// (the old saved default) turns into "the listen port".
func TestFollowListenPort(t *testing.T) {
	for _, c := range []struct {
		listen     string
		public     int
		wantPublic int
	}{
		{":8443", 8443, 0},
		{"0.0.0.0:8443", 8443, 0},
		{":8443", 443, 443},
		{":9443", 8443, 8443},
		{":8443", 0, 0},
		{"not an address", 8443, 8443},
	} {
		var set core.Settings
		set.Pairing.ListenAddr, set.Pairing.PublicPort = c.listen, c.public
		if got := set.FollowListenPort().Pairing.PublicPort; got != c.wantPublic {
			t.Errorf("listen %q public %d: public port %d, want %d", c.listen, c.public, got, c.wantPublic)
		}
	}
}
