package hublink

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

func TestToken(t *testing.T) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	end := time.Unix(2_000_000_000, 0)
	tok := SignToken(key, Claims{Station: "st1", Session: "s1", Exp: end.Unix()})
	got, err := ReadToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Station != "st1" || got.Session != "s1" || got.Exp != end.Unix() {
		t.Fatalf("claims %+v", got.Claims)
	}
	if !got.Verify(pub) || got.Verify(other) {
		t.Fatal("Verify accepts the wrong key or refuses the right one")
	}
	if got.Expired(end.Add(-time.Second)) || !got.Expired(end) {
		t.Fatal("a token must hold until the session's end and not at it")
	}
	// A changed claim breaks the signature: move the expiry a day later.
	p, s, _ := strings.Cut(tok, ".")
	longer := SignToken(key, Claims{Station: "st1", Session: "s1", Exp: end.Add(24 * time.Hour).Unix()})
	lp, _, _ := strings.Cut(longer, ".")
	forged, err := ReadToken(lp + "." + s)
	if err != nil {
		t.Fatal(err)
	}
	if forged.Verify(pub) {
		t.Fatal("a token with another payload kept its signature")
	}
	for _, bad := range []string{"", "x", "a.b", p + ".", "." + s, strings.Repeat("a", 2000)} {
		if _, err := ReadToken(bad); err == nil {
			t.Errorf("ReadToken(%.20q) accepted", bad)
		}
	}
}
