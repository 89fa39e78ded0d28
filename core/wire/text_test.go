package wire

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// What a hostile PC puts in its name or receipt must not move the
// terminal's cursor, fake another audit line or turn text around.
func TestCleanText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"PC-01", "PC-01"},
		{"PC\x1b[2J\nremote sign-in refused: Ana typed a wrong password", "PC[2Jremote sign-in refused: Ana typed a wrong password"},
		{"invoice_\u202Efdp.exe", "invoice_fdp.exe"},
		{"a\u200Bb\u2028c\u2029d\uFEFF\u2066e", "abcde"},
		{" \tpadded\r\n ", "padded"},
		{"bad\xffutf8", "badutf8"},
		{"Zoë's PC", "Zoë's PC"},
	} {
		if got := CleanText(c.in, 100); got != c.want {
			t.Errorf("CleanText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// The cut never splits a character.
	s := strings.Repeat("a", 499) + "éé"
	got := CleanText(s, 500)
	if !utf8.ValidString(got) || len(got) != 499 {
		t.Errorf("cut to 500 bytes: %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
}
