package main

import (
	"go/build"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestAgentImports keeps the app's parts apart (agent/README.md): the
// program takes nothing of the station but core/wire, the screen package
// nothing of the app, the session flow not the pipe that serves it, and
// nothing in the program the tests' rigs (agenttest, x11test), which
// import the station. It reads the import lines for Windows and for Linux
// (test files apart), so a forbidden import fails it on either.
func TestAgentImports(t *testing.T) {
	const mod = "adhocstation/"
	// May import, of this module: core/wire with its subpackages, and the
	// agent's own packages, only those listed for the packages below.
	only := map[string][]string{
		"agent/applog":  {},
		"agent/screen":  {"agent/applog"},
		"agent/support": {"agent/applog", "agent/screen"},
	}
	checked := 0
	err := filepath.WalkDir(".", func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		pkg := filepath.ToSlash(filepath.Join("agent", dir))
		if testSupport(pkg) {
			return nil // test rigs may import the station
		}
		for _, goos := range []string{"windows", "linux"} {
			ctx := build.Default
			ctx.GOOS, ctx.CgoEnabled = goos, false
			p, err := ctx.ImportDir(dir, 0)
			if err != nil {
				continue // no Go files for this system
			}
			checked++
			for _, imp := range p.Imports {
				rel, ok := strings.CutPrefix(imp, mod)
				if !ok {
					continue
				}
				// core/hublink is the relay hub's protocol (the app's
				// DialRelay); like wire it imports nothing of the station.
				wire := rel == "core/wire" || strings.HasPrefix(rel, "core/wire/") || rel == "core/hublink"
				switch {
				case testSupport(rel):
					t.Errorf("%s (%s) imports the test rig %s", pkg, goos, imp)
				case !wire && !strings.HasPrefix(rel, "agent/"):
					t.Errorf("%s (%s) imports %s: the app takes nothing of the station but core/wire", pkg, goos, imp)
				case only[pkg] != nil && !wire && !slices.Contains(only[pkg], rel):
					t.Errorf("%s (%s) imports %s; of this module it may import only core/wire and %v", pkg, goos, imp, only[pkg])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("only %d packages were read: is the test running in agent/?", checked)
	}
}

// testSupport reports whether pkg is one of the tests' rigs.
func testSupport(pkg string) bool {
	return strings.HasSuffix(path.Base(pkg), "test")
}
