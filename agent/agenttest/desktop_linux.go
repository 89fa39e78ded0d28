package agenttest

import (
	"image/color"
	"testing"

	"adhocstation/agent/x11desk/x11test"
	"adhocstation/core/coretest"
)

// Display starts an Xvfb display of w×h with the test program on it, on
// a dark grey background; both close with the test.
func Display(t testing.TB, w, h int, xvfbArgs ...string) (*x11test.Xvfb, *x11test.Program) {
	t.Helper()
	x, err := x11test.StartXvfb(w, h, coretest.WaitLimit, xvfbArgs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Close)
	prog, err := x11test.StartProgram(x.Display, color.RGBA{30, 30, 30, 255})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prog.Close)
	return x, prog
}
