package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"adhocstation/core"
)

// stationArgsEnv, set, makes the test binary run as the station binary with
// these arguments (separated by stationArgsSep): package initialisation,
// main and all, as `adhoc-station ARGS` would.
const (
	stationArgsEnv = "ADHOC_STATION_TEST_ARGS"
	stationArgsSep = "\x1f"
)

func TestMain(m *testing.M) {
	if args := os.Getenv(stationArgsEnv); args != "" {
		os.Args = append([]string{"adhoc-station"}, strings.Split(args, stationArgsSep)...)
		main() // a subcommand exits with its own code
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestCLIQuietUnderCLocale: under the C locale a command prints its output
// and nothing else. Under LANG=C.UTF-8 (the default of many containers and
// services) Fyne's lang package, linked into the station's binary for the
// window, logged "Fyne error: Error parsing user locale C" and two more lines
// at start, before main ran (issue 17, item 16). The test binary links what
// the station's does, so it stands in for it without a build.
func TestCLIQuietUnderCLocale(t *testing.T) {
	dir := t.TempDir()
	for _, locale := range []string{"C.UTF-8", "C.utf8", "C", "POSIX"} {
		cmd := exec.Command(os.Args[0])
		for _, kv := range os.Environ() {
			if name, _, _ := strings.Cut(kv, "="); name != "LANG" && name != "LANGUAGE" && !strings.HasPrefix(name, "LC_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "LANG="+locale, core.KeyringEnv+"=off",
			stationArgsEnv+"="+strings.Join([]string{"--data", dir, "profiles", "list"}, stationArgsSep))
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		if err := cmd.Run(); err != nil || errOut.Len() > 0 {
			t.Errorf("LANG=%s adhoc-station profiles list: %v, stderr:\n%s", locale, err, errOut.String())
		}
	}
}

// TestCloseRaceForgivesOnlyFynesPointerPanic: runApp swallows the nil view
// panic of Fyne's pointer-move handling (the stack CI printed) and nothing
// else.
func TestCloseRaceForgivesOnlyFynesPointerPanic(t *testing.T) {
	var nilErr error
	func() {
		defer func() { nilErr, _ = recover().(error) }()
		var p *struct{ n int }
		_ = p.n
	}()
	fyneStack := []byte(`github.com/go-gl/glfw/v3.3/glfw.(*Window).SetInputMode(0x18f2380?, 0x33001, 0x34001)
fyne.io/fyne/v2/internal/driver/glfw.(*window).processMouseMoved(0x170adc04a000, 0x285fc60?, 0x170adbe4d7c8?)
fyne.io/fyne/v2/internal/driver/glfw.(*window).mouseMoved(...)`)
	otherStack := []byte(`adhocstation/ui.(*remoteWindow).onEnd(...)`)
	if !closeRace(nilErr, fyneStack) {
		t.Errorf("the nil view panic in processMouseMoved is not forgiven")
	}
	if closeRace(nilErr, otherStack) {
		t.Errorf("a nil pointer panic elsewhere is forgiven")
	}
	if closeRace("a plain panic", fyneStack) {
		t.Errorf("a panic that is not a runtime error is forgiven")
	}
}
