package wire

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CleanText is a string from a PC (its name, its facts, a receipt, a
// sentence it answers with) fit for one line of the audit log, the
// station's log and its windows: control characters (escape sequences,
// line breaks that would fake another audit line), format characters (the
// bidirectional overrides that make text read backwards, zero-width
// characters) and line or paragraph separators are dropped, as is
// anything that is not UTF-8; spaces at the ends are trimmed and the rest
// is cut to at most max bytes without splitting a character.
func CleanText(s string, max int) string {
	var b strings.Builder
	for _, c := range s {
		if c == utf8.RuneError || unicode.In(c, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			continue
		}
		b.WriteRune(c)
	}
	return CutText(strings.TrimSpace(b.String()), max)
}

// CutText cuts s to at most max bytes at a character boundary.
func CutText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 {
		if r, n := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || n != 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return strings.TrimSpace(s)
}
