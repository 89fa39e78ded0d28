//go:build linux

package ui

import (
	"image"
	"image/color"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"adhocstation/agent/agenttest"
	"adhocstation/agent/x11desk/x11test"
	"adhocstation/core/coretest"
)

// TestScreenViewThroughHub: with the station joined to a real relay hub and
// the PC reaching it only through the hub (its download names the hub, it
// pairs and holds its live channel through the relay), the Screen view
// works as directly: the PC's pattern arrives, a key typed in the view
// with Control on reaches the program on the PC, and the program's answer
// comes back into the view.
func TestScreenViewThroughHub(t *testing.T) {
	g := newScreenRigVia(t, 640, 480, pathHub)
	area := image.Rect(32, 32, 608, 448)
	pat := x11test.Pattern(area)
	if err := g.prog.Draw(pat); err != nil {
		t.Fatal(err)
	}
	g.r.win.Resize(fyne.NewSize(1000, 680))
	g.showTab()
	g.start(t)
	// The flat bars (above the gradient's tile row) are sent losslessly.
	g.until(t, "the pattern", func(img *image.RGBA) bool {
		if img == nil || img.Rect != image.Rect(0, 0, 640, 480) {
			return false
		}
		w, _ := agenttest.ChannelDiff(img, pat, image.Rect(32, 32, 608, 128))
		return w == 0
	})

	v := g.tab.view
	g.act(func() {
		g.tab.control.SetChecked(true)
		v.MouseIn(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: g.viewPoint(300, 200)}})
		v.TypedRune('h')
		v.TypedRune('u')
		v.TypedRune('b')
	})
	if err := g.prog.WaitFor(coretest.WaitLimit, func(_ []x11test.Click, text string) bool { return text == "hub" }); err != nil {
		t.Fatalf("the keys typed in the view did not reach the PC's program through the hub: %v (it got %q)", err, g.prog.Text())
	}
	answer := color.RGBA{250, 10, 10, 255}
	if err := g.prog.Fill(image.Rect(100, 100, 116, 116), answer); err != nil {
		t.Fatal(err)
	}
	g.until(t, "the program's answer", func(img *image.RGBA) bool { return img.RGBAAt(108, 108) == answer })
}
