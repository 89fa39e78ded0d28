package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnrolCommandWritesOneCode(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	if err := run([]string{"enrol", "-state", state}); err != nil {
		t.Fatal(err)
	}
	codes, err := os.ReadDir(filepath.Join(state, "codes"))
	if err != nil || len(codes) != 1 {
		t.Fatalf("codes after one enrol: %v %v", codes, err)
	}
	fi, err := os.Stat(state)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state folder: %v %v", fi.Mode(), err)
	}
}

func TestServeNeedsACertificate(t *testing.T) {
	state := t.TempDir()
	for _, args := range [][]string{
		{"-state", state, "-listen", "127.0.0.1:0"},
		{"-state", state, "-listen", "127.0.0.1:0", "-cert", "c.pem"},
		{"-state", state, "-listen", "127.0.0.1:0", "-acme-domain", "hub.test", "-cert", "c.pem", "-key", "k.pem"},
	} {
		err := run(args)
		if err == nil || !strings.Contains(err.Error(), "the hub needs its certificate") {
			t.Errorf("%v: %v", args, err)
		}
	}
	err := run([]string{"-state", state, "-listen", "127.0.0.1:0", "-cert", filepath.Join(state, "none.pem"), "-key", filepath.Join(state, "none.pem")})
	if err == nil || !strings.Contains(err.Error(), "could not be loaded") {
		t.Errorf("missing PEM files: %v", err)
	}
}
