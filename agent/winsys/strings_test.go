package winsys

import (
	"strings"
	"testing"
	"unicode/utf16"
)

// A password with a NUL must be refused, never cut: a conversion that
// dropped the error gave NetUserAdd a NULL pointer, a blank password on an
// administrator account.
func TestUTF16zRefusesNUL(t *testing.T) {
	if _, err := utf16z("pass\x00word"); err == nil {
		t.Fatal("a NUL in the text was accepted")
	}
	got, err := utf16z("Pässwört")
	if err != nil || got[len(got)-1] != 0 || string(utf16.Decode(got[:len(got)-1])) != "Pässwört" {
		t.Fatalf("utf16z = %v, %v", got, err)
	}
}

func TestNERRTexts(t *testing.T) {
	for _, code := range []uint32{2221, 2224, 2245} {
		if s := nerrText(code); !strings.Contains(s, "NERR_") {
			t.Errorf("code %d: %q", code, s)
		}
	}
}
