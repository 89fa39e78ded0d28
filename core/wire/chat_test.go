package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// CleanChat keeps text and line breaks, drops what could hide or disguise
// text, and refuses more than MaxChatText characters with a sentence.
func TestCleanChat(t *testing.T) {
	for in, want := range map[string]string{
		"Hello Anna":                   "Hello Anna",
		"  one\r\ntwo\rthree\n\n ":     "one\ntwo\nthree",
		"bell\x07 esc\x1b[31m nul\x00": "bell esc[31m nul",
		"tab\there":                    "tabhere",
		"del\x7f c1\u0085":             "del c1",
		"evil\u202egnp.exe":            "evilgnp.exe",
		"isolate\u2066x\u2069":         "isolatex",
		"bad \xff utf8":                "bad  utf8",
		"日本語 é 👍🏽":                     "日本語 é 👍🏽",
		"\x01\x02":                     "",
	} {
		got, err := CleanChat(in)
		if err != nil || got != want {
			t.Errorf("CleanChat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, err := CleanChat(strings.Repeat("é", MaxChatText)); err != nil || utf8.RuneCountInString(got) != MaxChatText {
		t.Errorf("2,000 characters: %d, %v", utf8.RuneCountInString(got), err)
	}
	// Dropped characters do not count.
	if _, err := CleanChat(strings.Repeat("a\x07", MaxChatText)); err != nil {
		t.Errorf("2,000 characters and 2,000 bells: %v", err)
	}
	_, err := CleanChat(strings.Repeat("日", MaxChatText+1))
	var long *ChatTooLongError
	if !errors.As(err, &long) || long.Length != MaxChatText+1 || !strings.HasPrefix(err.Error(), "That message is 2001 characters long") {
		t.Errorf("2,001 characters: %v", err)
	}
	if got := CleanChatName(strings.Repeat("n", 300) + "\n"); got != strings.Repeat("n", MaxChatName) {
		t.Errorf("a long name is cut to %d characters", len(got))
	}
}

// The longest message, of the characters JSON writes longest, fits a line.
func TestChatLineBound(t *testing.T) {
	worst := strings.Repeat("\u2028", MaxChatText) // escaped as \u2028: 6 bytes each
	b, err := json.Marshal(ChatMessage{Text: worst, From: strings.Repeat("<", MaxChatName), Notice: "", Code: ""})
	if err != nil || len(b)+1 > MaxChatLine {
		t.Fatalf("the longest message takes %d bytes (%v); MaxChatLine is %d", len(b)+1, err, MaxChatLine)
	}
	if unicode.IsControl('\u2028') {
		t.Fatal("U+2028 is not a control character: the test would not be the worst case")
	}
}
