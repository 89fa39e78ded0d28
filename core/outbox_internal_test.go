package core

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: 15 * time.Second, 2: 30 * time.Second, 3: time.Minute,
		6: 8 * time.Minute, 7: 15 * time.Minute, 50: 15 * time.Minute} {
		if got := backoff(attempt); got != want {
			t.Errorf("backoff(%d) = %v, want %v", attempt, got, want)
		}
	}
}

func TestMailtoEscape(t *testing.T) {
	got := mailtoEscape("a b+c&d=e/f\r\nÄ, (ok): x@y")
	want := "a%20b%2Bc%26d%3De%2Ff%0D%0A%C3%84,%20(ok):%20x@y"
	if got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

func TestErrInvitationNotNeeded(t *testing.T) {
	if !errors.Is(ErrInvitationNotNeeded, ErrNotPrepared) || strings.Contains(ErrInvitationNotNeeded.Error(), "code") {
		t.Fatal("ErrInvitationNotNeeded must match ErrNotPrepared and speak of the invitation")
	}
}
