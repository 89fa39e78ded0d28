package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adhocstation/hub/hubsrv"
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

// TestEnrolTeamAndRevokeCommands: enrol -team writes a code for the team
// (a name that cannot be a subject token is refused); revoke without a
// running hub says how to reach it; revoke through a running hub's admin
// socket answers its refusal (an unknown station).
func TestEnrolTeamAndRevokeCommands(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	if err := run([]string{"enrol", "-state", state, "-team", "a.b"}); err == nil {
		t.Fatal("enrol -team a.b was accepted")
	}
	if err := run([]string{"enrol", "-state", state, "-team", "acme"}); err != nil {
		t.Fatal(err)
	}
	codes, err := os.ReadDir(filepath.Join(state, "codes"))
	if err != nil || len(codes) != 1 {
		t.Fatalf("codes: %v %v", codes, err)
	}
	b, err := os.ReadFile(filepath.Join(state, "codes", codes[0].Name()))
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(b)), "\nacme") {
		t.Fatalf("the code file %q, %v", b, err)
	}
	if err := run([]string{"revoke", "-state", state, "x"}); err == nil || !strings.Contains(err.Error(), "start the hub") {
		t.Fatalf("revoke with no hub running: %v", err)
	}
	srv, err := hubsrv.New(state, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := srv.ListenAdmin()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeAdmin(ctx, ln) }()
	defer func() { cancel(); <-done }()
	if fi, err := os.Stat(hubsrv.AdminSocket(state)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket: %v %v", fi, err)
	}
	if err := run([]string{"revoke", "-state", state, "nosuch"}); err == nil || !strings.Contains(err.Error(), "no station of that id") {
		t.Fatalf("revoke of an unknown station: %v", err)
	}
}
