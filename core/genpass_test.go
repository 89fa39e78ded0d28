package core_test

import (
	"regexp"
	"strings"
	"testing"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// Every generated password passes core's own rules, reads as four groups
// of five without look-alike characters, and draws on the whole alphabet.
// The email-name rule is checked with names that hold a character the
// generator never uses (o, z, a dot): a name made only of its characters,
// such as "user", turns up by chance about once in 30,000 passwords, which
// is why the form checks each one and draws again.
func TestGeneratePasswordPassesRules(t *testing.T) {
	st, _ := coretest.Open(t)
	shape := regexp.MustCompile(`^[a-zA-Z2-9]{5}(-[a-zA-Z2-9]{5}){3}$`)
	seen := map[string]bool{}
	used := map[rune]bool{}
	for i := range 5000 {
		pw, err := core.GeneratePassword()
		if err != nil {
			t.Fatal(err)
		}
		for _, email := range []string{"zoe@example.com", "anna.berg@example.com", "tom@example.com", "x@example.com"} {
			if err := st.ValidatePassword(email, pw); err != nil {
				t.Fatalf("try %d: %q refused for %s: %v", i, pw, email, err)
			}
		}
		if !shape.MatchString(pw) {
			t.Fatalf("%q is not four groups of five", pw)
		}
		if strings.ContainsAny(pw, "0O1lIioyzYZ") {
			t.Fatalf("%q has a look-alike character", pw)
		}
		if !strings.ContainsAny(pw, "abcdefghjkmnpqrstuvwx") || !strings.ContainsAny(pw, "ABCDEFGHJKLMNPQRSTUVWX") ||
			!strings.ContainsAny(pw, "23456789") {
			t.Fatalf("%q lacks a lower-case letter, a capital or a digit (Windows complexity)", pw)
		}
		if seen[pw] {
			t.Fatalf("%q came twice", pw)
		}
		seen[pw] = true
		for _, r := range strings.ReplaceAll(pw, "-", "") {
			used[r] = true
		}
	}
	if len(used) != 51 {
		t.Errorf("5000 passwords used %d distinct characters, want all 51", len(used))
	}
}

func TestGeneratedPasswordPrepares(t *testing.T) {
	st, _ := coretest.Open(t)
	p, err := st.CreateProfile(t.Context(), "Anna Tech", "anna.tech@example.com")
	if err != nil {
		t.Fatal(err)
	}
	pw, err := core.GeneratePassword()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Prepare(t.Context(), core.PrepareRequest{ProfileID: p.ID, UserEmail: "user@example.com",
		Password: pw, Confirm: pw}); err != nil {
		t.Fatalf("a generated password %q was refused: %v", pw, err)
	}
}
