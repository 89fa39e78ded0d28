package winsys

import (
	"strings"
	"testing"
	"unicode/utf16"
)

// Finding 7: the old conversion dropped the error, so a password with a NUL
// became a NULL pointer (a blank password) in NetUserAdd.
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
