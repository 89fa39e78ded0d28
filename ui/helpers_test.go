package ui

import (
	"image"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// The ui package's test helpers: one tree walker, one button finder, one
// way to wait for core's events and one for background work.

// testWindow opens a test window of the station's size; screens are built
// on it so their dialogs have somewhere to appear.
func testWindow(t testing.TB) fyne.Window {
	t.Helper()
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(1100, 700))
	return w
}

// walk visits every visible object under o, through containers and widget
// renderers, in drawing order.
func walk(o fyne.CanvasObject, visit func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	visit(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, visit)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, visit)
		}
	}
}

// findAll returns the visible objects of type T under o, in drawing order.
func findAll[T fyne.CanvasObject](o fyne.CanvasObject) []T {
	var found []T
	walk(o, func(o fyne.CanvasObject) {
		if v, ok := o.(T); ok {
			found = append(found, v)
		}
	})
	return found
}

// findButton returns the visible button labelled text under o (a dialog,
// a page).
func findButton(t testing.TB, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	for _, b := range findAll[*widget.Button](o) {
		if b.Text == text {
			return b
		}
	}
	t.Fatalf("no %q button on screen", text)
	return nil
}

// labelShown says whether a message label is on screen with something in it.
func labelShown(l *widget.Label) bool { return l.Visible() && l.Text != "" }

// deliverUntil hands core's events to on, as the window's dispatcher would
// but on this goroutine, until one of kind arrives. It waits on the feed,
// never on a widget, and fails after coretest.WaitLimit.
func deliverUntil(t testing.TB, sub *core.Subscription, on func(core.Event), kind core.EventKind) {
	t.Helper()
	deadline := time.After(coretest.WaitLimit)
	for {
		select {
		case e, ok := <-sub.C:
			if !ok {
				t.Fatalf("the event feed closed before a %s event", kind)
			}
			on(e)
			if e.Kind == kind {
				return
			}
		case <-deadline:
			t.Fatalf("waited %v for a %s event: it never came", coretest.WaitLimit, kind)
		}
	}
}

// workWatch follows a screen's (or the window's) background work.
type workWatch struct {
	b       *background
	applied chan string
}

// watchWork hooks b so the test learns each job applied on screen.
func watchWork(b *background) *workWatch {
	w := &workWatch{b: b, applied: make(chan string, 1024)}
	b.applied = func(job string) { w.applied <- job }
	return w
}

// wait returns once job's result is on screen; jobs applied meanwhile are
// passed over. It fails after coretest.WaitLimit.
func (w *workWatch) wait(t testing.TB, job string) {
	t.Helper()
	deadline := time.After(coretest.WaitLimit)
	for {
		select {
		case got := <-w.applied:
			if got == job {
				return
			}
		case <-deadline:
			t.Fatalf("waited %v for the %s result on screen: it never came", coretest.WaitLimit, job)
		}
	}
}

// during runs action, which starts job, holding the work until action has
// returned (Fyne's test driver would otherwise apply the result while the
// tap is still updating widgets), then waits for job's result.
func (w *workWatch) during(t testing.TB, job string, action func()) {
	t.Helper()
	gate := make(chan struct{})
	w.b.hold = gate
	action()
	w.b.hold = nil
	close(gate)
	w.wait(t, job)
}

// pairPC pairs coretest's Windows PC with a prepared session.
func pairPC(t testing.TB, st *core.Station, prep core.Prepared) core.Paired {
	t.Helper()
	paired, err := st.Pair(t.Context(), core.PairRequest{Token: prep.Session.Token, Code: prep.Code,
		RemoteAddr: "192.0.2.10:5000", Facts: coretest.WindowsPC})
	if err != nil {
		t.Fatalf("pair: %v", err)
	}
	return paired
}

// decodeQR reads a QR code back, scaled up as a camera would see it.
func decodeQR(t testing.TB, img image.Image) string {
	t.Helper()
	if img == nil {
		t.Fatal("no QR image")
	}
	const scale = 8
	b := img.Bounds()
	big := image.NewRGBA(image.Rect(0, 0, b.Dx()*scale, b.Dy()*scale))
	for y := 0; y < b.Dy()*scale; y++ {
		for x := 0; x < b.Dx()*scale; x++ {
			big.Set(x, y, img.At(b.Min.X+x/scale, b.Min.Y+y/scale))
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(big)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	return res.GetText()
}
