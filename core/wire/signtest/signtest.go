// Package signtest gives tests a small real Windows program signed with
// Authenticode by agent/sign.sh (what `make agent` runs), with a
// code-signing certificate of a CA made for the test: from PEM files, from
// a SoftHSM2 PKCS#11 token, and with an RFC 3161 timestamp from a test
// time-stamping server on 127.0.0.1. Only tests import it.
package signtest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Publisher is the test signing certificate's common name.
const Publisher = "Example Support Ltd"

// App is a signed program and the root that verifies it.
type App struct {
	Exe     []byte // signed with SHA-256, no timestamp
	RootPEM []byte
	// NotAfter is the signing certificate's end.
	NotAfter time.Time
}

var (
	once  sync.Once
	built App
	err   error

	tinyOnce sync.Once
	tiny     []byte
	tinyErr  error
)

// Signed builds the app once per test binary (about a second), or skips
// the test when osslsigncode or the Go toolchain is missing.
func Signed(tb testing.TB) App {
	tb.Helper()
	needTools(tb)
	once.Do(func() { built, err = build() })
	if err != nil {
		tb.Fatal(err)
	}
	return built
}

func needTools(tb testing.TB) {
	tb.Helper()
	for _, tool := range []string{"osslsigncode", "go", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("%s is not installed (make deps installs osslsigncode); the signed download is not tested", tool)
		}
	}
}

// Verify runs osslsigncode verify on exe against the test root; the error
// holds its output.
func Verify(tb testing.TB, a App, exe []byte) (string, error) {
	tb.Helper()
	return VerifyAt(tb, a, exe, "")
}

// VerifyAt is Verify with the verifier's clock moved by shift (faketime's
// offset, e.g. "+2d"; "" for now), the test root also trusted for
// timestamps. It skips the test when faketime is needed and missing.
func VerifyAt(tb testing.TB, a App, exe []byte, shift string) (string, error) {
	tb.Helper()
	dir := tb.TempDir()
	root, path := filepath.Join(dir, "root.pem"), filepath.Join(dir, "download.exe")
	if err := os.WriteFile(root, a.RootPEM, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, exe, 0o600); err != nil {
		tb.Fatal(err)
	}
	args := []string{"osslsigncode", "verify", "-CAfile", root, "-TSA-CAfile", root, "-in", path}
	if shift != "" {
		if _, err := exec.LookPath("faketime"); err != nil {
			tb.Skip("faketime is not installed (make deps installs it); the signature is not checked after its certificate's end")
		}
		args = append([]string{"faketime", "-f", shift}, args...)
	}
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return string(out), errors.New(string(out))
	}
	return string(out), nil
}

// Script is the path of agent/sign.sh in this source tree.
func Script() string { return filepath.Join(Root(), "agent", "sign.sh") }

// Root is the source tree's top folder, where the Makefile is.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Unsigned is the test program before signing, built once per test binary.
func Unsigned(tb testing.TB) []byte {
	tb.Helper()
	needTools(tb)
	tinyOnce.Do(func() { tiny, tinyErr = buildTiny() })
	if tinyErr != nil {
		tb.Fatal(tinyErr)
	}
	return tiny
}

// SignWithScript signs the test program as `make agent` does, with env
// (SIGN_* variables) added to this process's environment. It returns the
// signed program and the script's output; err is set when the script
// failed, and then gone tells whether the unsigned program was deleted.
func SignWithScript(tb testing.TB, env ...string) (exe []byte, out string, gone bool, err error) {
	tb.Helper()
	return SignExe(tb, Unsigned(tb), env...)
}

// SignExe is SignWithScript for another program, e.g. the real app.
func SignExe(tb testing.TB, unsigned []byte, env ...string) (exe []byte, out string, gone bool, err error) {
	tb.Helper()
	app := filepath.Join(tb.TempDir(), "AdHocSupport.exe")
	if err := os.WriteFile(app, unsigned, 0o600); err != nil {
		tb.Fatal(err)
	}
	exe, out, err = signFile(app, env)
	if err != nil {
		_, statErr := os.Stat(app)
		return nil, out, errors.Is(statErr, os.ErrNotExist), err
	}
	return exe, out, false, nil
}

// Environ is this process's environment without SIGN_* variables, which
// a developer may have set for their own builds, and without make's own
// (a test under make test must not join its job server).
func Environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "SIGN_") && name != "MAKEFLAGS" && name != "MFLAGS" && name != "MAKELEVEL" {
			env = append(env, kv)
		}
	}
	return env
}

func signFile(app string, env []string) ([]byte, string, error) {
	cmd := exec.Command("bash", Script(), app)
	cmd.Env = append(Environ(), env...)
	outB, err := cmd.CombinedOutput()
	if err != nil {
		return nil, string(outB), errors.New("agent/sign.sh: " + string(outB))
	}
	exe, err := os.ReadFile(app)
	return exe, string(outB), err
}

func buildTiny() ([]byte, error) {
	dir, err := os.MkdirTemp("", "adhoc-sign-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "tiny.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() { println(\"hello\") }\n"), 0o600); err != nil {
		return nil, err
	}
	exe := filepath.Join(dir, "tiny.exe")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", exe, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, errors.New("building the test program: " + string(out))
	}
	return os.ReadFile(exe)
}

func build() (App, error) {
	dir, err := os.MkdirTemp("", "adhoc-sign-")
	if err != nil {
		return App{}, err
	}
	defer os.RemoveAll(dir)
	p, err := newPKI(dir, 24*time.Hour)
	if err != nil {
		return App{}, err
	}
	if tinyOnce.Do(func() { tiny, tinyErr = buildTiny() }); tinyErr != nil {
		return App{}, tinyErr
	}
	app := filepath.Join(dir, "AdHocSupport.exe")
	if err := os.WriteFile(app, tiny, 0o600); err != nil {
		return App{}, err
	}
	exe, _, err := signFile(app, p.PEMEnv())
	return App{Exe: exe, RootPEM: p.RootPEM, NotAfter: p.NotAfter}, err
}
