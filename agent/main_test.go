//go:build !windows

package main

import "testing"

func TestRefusesOffWindows(t *testing.T) {
	if code := run(options{code: "482193657"}); code != 1 {
		t.Fatalf("run = %d off Windows, want 1", code)
	}
}
