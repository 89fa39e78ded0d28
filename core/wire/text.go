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

// maxShown bounds one cleaned string a PC sends for showing (a name, a
// sentence): its line's own bound is larger.
const maxShown = 4 << 10

// CleanShown is CleanText for a string shown in the station's windows.
func CleanShown(s string) string { return CleanText(s, maxShown) }

// Clean cleans every string of the System tab as CleanShown does.
func (s *SystemInfo) Clean() {
	for _, p := range []*string{&s.ComputerName, &s.Edition, &s.Build, &s.CPU} {
		*p = CleanShown(*p)
	}
	for i := range s.Disks {
		s.Disks[i].Name = CleanShown(s.Disks[i].Name)
	}
	for i := range s.Users {
		s.Users[i] = CleanShown(s.Users[i])
	}
	for i := range s.Addresses {
		s.Addresses[i].Name = CleanShown(s.Addresses[i].Name)
		for j := range s.Addresses[i].Addresses {
			s.Addresses[i].Addresses[j] = CleanShown(s.Addresses[i].Addresses[j])
		}
	}
}

// Clean cleans the monitors' names and the sentences of a ScreenInfo.
func (s *ScreenInfo) Clean() {
	for i := range s.Monitors {
		s.Monitors[i].Name = CleanShown(s.Monitors[i].Name)
	}
	s.Desktop, s.SAS = CleanShown(s.Desktop), CleanShown(s.SAS)
}
