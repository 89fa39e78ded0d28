// Package fynelocale keeps Fyne quiet under the C locale. main imports it
// for that effect alone.
//
// Fyne's lang package reads the user's locale in its init, in every run of
// the station's binary, the command line's too: linking the window links
// it, and no run can skip a linked package's init. From LANG=C.UTF-8, the
// default of many containers and services, it takes "C", which is not a
// language tag, and logs "Fyne error: Error parsing user locale C" in three
// lines before main runs. The C locale asks for untranslated text, which is
// English, Fyne's fallback anyway; so under it this package names English
// in LANGUAGE, which Fyne's lookup reads before LANG. The setting stays for
// the run, so the window's later lookups are quiet too.
//
// It works only if it runs before lang's init. Go initialises, among the
// packages whose imports are all initialised, the first by import path;
// this package imports only os and strings, which lang needs too, and
// "adhocstation/…" sorts before "fyne.io/…", so it always runs first.
package fynelocale

import (
	"os"
	"strings"
)

func init() {
	if os.Getenv("LANGUAGE") == "" && cLocaleWithCodeset(messagesLocale()) {
		os.Setenv("LANGUAGE", "en")
	}
}

// messagesLocale is the locale for messages, as gettext and Fyne choose it.
func messagesLocale() string {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(name); v != "" {
			return v
		}
	}
	return ""
}

// cLocaleWithCodeset reports a C or POSIX locale with a codeset or modifier
// ("C.UTF-8", "POSIX@euro"): Fyne takes these for a language named "C".
// The bare names it recognises as no language and says nothing.
func cLocaleWithCodeset(l string) bool {
	for _, c := range []string{"C", "POSIX"} {
		if rest, ok := strings.CutPrefix(l, c); ok && rest != "" && (rest[0] == '.' || rest[0] == '@') {
			return true
		}
	}
	return false
}
