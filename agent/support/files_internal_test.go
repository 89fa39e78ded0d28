package support

import (
	"strings"
	"testing"
)

// An upload's name is one entry of the PC's folder, as Windows allows it:
// not an alternate data stream of another file ("note.txt:hidden"), not a
// device ("CON", "nul.txt", "COM1" open the device in any folder), no
// characters Windows refuses or trims (a trailing dot or space would
// make the final name differ from the checked one).
func TestValidNameRefusesWindowsSpecialNames(t *testing.T) {
	for _, n := range []string{"note.txt:hidden", "note.txt::$DATA", "CON", "con", "nul.txt", "COM1", "lpt9.log", "COM¹", "lpt² .txt", "AUX",
		"report.", "report ", "a<b", "a>b", `a"b`, "a|b", "a?b", "a*b", "tab\tname", "..", ".", "", "a/b", `a\b`, "conin$", "CONOUT$"} {
		if validName(n) {
			t.Errorf("%q was accepted as an upload's name", n)
		}
	}
	for _, n := range []string{"note.txt", "setup (1).msi", "Übersicht 2026.xlsx", ".profile", "console.log", "com10.txt", "nul-report.pdf", "~draft"} {
		if !validName(n) {
			t.Errorf("%q was refused as an upload's name", n)
		}
	}
}

// The Files tab reaches files and folders, not devices: the Win32 device
// namespace (\\.\PhysicalDrive0, \\?\GLOBALROOT\…, either slash) and the
// NT object namespace (\??\PhysicalDrive0) are refused with a sentence
// before anything is opened.
func TestFullPathRefusesDeviceNamespace(t *testing.T) {
	for _, p := range []string{`\\.\PhysicalDrive0`, `//./PhysicalDrive0`, `\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopy1`, `//?/C:/Windows`, `\\.\pipe\adhoc-support`,
		`\??\PhysicalDrive0`, `/??/C:/Windows`, `\??/GLOBALROOT`} {
		_, err := fullPath(p)
		if fe, ok := err.(*fileError); !ok || !strings.Contains(fe.text, "device") {
			t.Errorf("%s: %v", p, err)
		}
	}
}
