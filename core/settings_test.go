package core_test

import (
	"errors"
	"strings"
	"testing"

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
