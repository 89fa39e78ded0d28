package support

import "testing"

// A NUL in the password must never reach Windows: it would end the UTF-16
// string early, or become a NULL pointer, a blank password on an
// administrator account.
func TestCheckPassword(t *testing.T) {
	for p, ok := range map[string]bool{
		"correct horse battery": true,
		"Pässwört-2026!":        true,
		"abc\x00def":            false,
		"\x00":                  false,
		"":                      false,
		"tab\there":             false,
		"line\nbreak":           false,
		"\xff\xfe":              false,
	} {
		if err := checkPassword(p); (err == nil) != ok {
			t.Errorf("checkPassword(%q) = %v, want ok=%v", p, err, ok)
		}
	}
}
