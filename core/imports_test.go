package core_test

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// The layout's import rules, checked on what each package links in
// (directly or through others; tests are not counted), for this system
// and for Windows, where the Support Session app runs:
//   - core/remote imports neither core nor SQLite: the remote session
//     window needs no database; nor do core/record (the player) and
//     core/team (pure Go, the station's side of a team).
//   - hub/... imports neither core, ui, Fyne nor SQLite: the hub is a
//     static program without cgo for any Linux host.
//   - every package under agent/ imports nothing of the station but
//     core/wire and its sub-packages (and core/hublink, the relay hub's
//     protocol, which imports nothing of the station): no core, no ui, no Fyne, no SQLite,
//     so the app stays small and the station's secrets out of it.
func TestImportRules(t *testing.T) {
	goTool, err := exec.LookPath("go") // go test puts its own first on PATH
	if err != nil {
		t.Fatalf("no go command to list the imports with: %v", err)
	}
	for _, goos := range []string{runtime.GOOS, "windows"} {
		cmd := exec.Command(goTool, "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}",
			"adhocstation/core/remote", "adhocstation/core/record", "adhocstation/core/team",
			"adhocstation/hub/...", "adhocstation/agent/...")
		cmd.Env = append(os.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list for %s: %v\n%s", goos, err, out)
		}
		checked := map[string]bool{}
		for line := range strings.Lines(string(out)) {
			f := strings.Fields(line)
			pkg, deps := f[0], f[1:]
			checked[pkg] = true
			for _, dep := range deps {
				if why := broken(pkg, dep); why != "" {
					t.Errorf("%s (GOOS=%s) imports %s: %s", pkg, goos, dep, why)
				}
			}
		}
		if !checked["adhocstation/core/remote"] || !checked["adhocstation/agent/support"] || !checked["adhocstation/hub/hubsrv"] {
			t.Fatalf("go list for %s did not list core/remote, agent/support and hub/hubsrv, only %d packages", goos, len(checked))
		}
	}
}

// testSupport are agent packages only tests import (agent's own
// TestAgentImports keeps the app off them): they stand up a real station.
var testSupport = map[string]bool{"adhocstation/agent/agenttest": true}

// broken says which rule pkg importing dep breaks, or "".
func broken(pkg, dep string) string {
	switch {
	case testSupport[pkg]:
		return ""
	case dep == "github.com/mattn/go-sqlite3":
		return "the station's database is no business of " + pkg
	case (pkg == "adhocstation/core/remote" || pkg == "adhocstation/core/record" || pkg == "adhocstation/core/team") &&
		dep == "adhocstation/core":
		return "core imports " + strings.TrimPrefix(pkg, "adhocstation/") + ", not the other way round"
	case strings.HasPrefix(pkg, "adhocstation/hub") && (dep == "adhocstation/core" ||
		strings.HasPrefix(dep, "adhocstation/ui") || strings.HasPrefix(dep, "fyne.io/fyne/")):
		return "the hub is a program of its own, without the station's core, window or cgo"
	case !strings.HasPrefix(pkg, "adhocstation/agent"):
		return ""
	case strings.HasPrefix(dep, "fyne.io/fyne/"):
		return "the Support Session app has no Fyne window"
	case strings.HasPrefix(dep, "adhocstation/") && !strings.HasPrefix(dep, "adhocstation/agent") &&
		dep != "adhocstation/core/wire" && !strings.HasPrefix(dep, "adhocstation/core/wire/") && dep != "adhocstation/core/hublink":
		return "the Support Session app may import only core/wire (and the hub's protocol, core/hublink) of the station"
	}
	return ""
}
