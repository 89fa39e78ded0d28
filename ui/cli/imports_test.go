package cli

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsNoFyne keeps the command line apart from the window: it must
// build, and its tests run, without Fyne and its OpenGL driver.
func TestImportsNoFyne(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to list the imports with")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "fyne.io/") || strings.Contains(pkg, "go-gl/") {
			t.Errorf("the command line imports %s", pkg)
		}
	}
}
