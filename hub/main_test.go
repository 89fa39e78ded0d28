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

// TestDeployFilesUseRealFlags: the systemd unit and the container image
// start the hub with flags it has (a renamed flag would break them only
// on a real host).
func TestDeployFilesUseRealFlags(t *testing.T) {
	state := t.TempDir()
	for file, prefix := range map[string]string{
		"deploy/adhoc-hub.service": "ExecStart=/usr/local/bin/adhoc-hub ",
		"deploy/Containerfile":     "ENTRYPOINT ",
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var line string
		for l := range strings.Lines(string(b)) {
			if strings.HasPrefix(l, prefix) {
				line = strings.TrimPrefix(l, prefix)
			}
		}
		if line == "" {
			t.Fatalf("%s: no %q line", file, prefix)
		}
		var args []string
		for _, f := range strings.FieldsFunc(line, func(r rune) bool { return strings.ContainsRune(" \t\n[],\"", r) }) {
			if strings.HasPrefix(f, "-") {
				// Each flag with a value that makes the hub stop before
				// listening: certificate files that do not exist.
				args = append(args, f, filepath.Join(state, "none.pem"))
			}
		}
		if len(args) == 0 {
			t.Fatalf("%s: no flags read from %q", file, line)
		}
		args = append(args, "-listen", "127.0.0.1:0", "-state", state, "-cert", filepath.Join(state, "none.pem"), "-key", filepath.Join(state, "none.pem"))
		if err := run(args); err == nil || !strings.Contains(err.Error(), "could not be loaded") {
			t.Errorf("%s: the hub with %v: %v", file, args, err)
		}
	}
}
