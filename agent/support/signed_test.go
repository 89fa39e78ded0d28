//go:build !windows

package support_test

import (
	"bytes"
	"os"
	"testing"

	"adhocstation/core"
	"adhocstation/core/wire"
	"adhocstation/core/wire/signtest"
)

// The app reads its details from a signed download's signature padding
// (the station's tag), and pairs with them.
func TestSignedDownloadPairs(t *testing.T) {
	app := signtest.Signed(t)
	signed, err := wire.ParseSignedApp(app.Exe)
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, windowsPC, nil, func(right string) []string { return []string{right} })
	pieces, err := signed.Tag(wire.Details{StationURL: r.srv.URL(), Pins: r.srv.Pins(), Token: r.prep.Session.Token,
		Technician: wire.Technician{Name: r.profile.Name, Email: r.profile.Email}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.rec.exe, bytes.Join(pieces, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	r.start()
	r.waitEvent(core.EventPaired)
	if c := r.session().Computer; c == nil || c.Hostname != windowsPC.Hostname {
		t.Fatalf("computer %+v: want %s paired from the signed download", c, windowsPC.Hostname)
	}
}
