package ui

import (
	"image"
	"image/draw"
	"strings"
	"sync"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core/wire"
)

// screenView shows the PC's desktop, scaled to fit or 1:1 inside a scroll
// container, and, while Control is on, turns the technician's mouse and
// keyboard into input events in the captured image's coordinates.
type screenView struct {
	widget.BaseWidget

	// send delivers an input event (the tab passes it to the stream).
	send func(wire.InputEvent)
	// scroll is the container the view sits in; the wheel scrolls it while
	// Control is off.
	scroll *container.Scroll

	// mu guards the images: frames arrive on the stream's goroutine.
	mu        sync.Mutex
	pending   *image.RGBA       // frames land here off the Fyne goroutine
	dirty     []image.Rectangle // regions of pending not yet shown
	scheduled bool              // a present is queued on the Fyne goroutine
	shown     *image.RGBA       // what img draws; changed on the Fyne goroutine only
	fit       bool              // scale to the view (true) or one image pixel per screen pixel

	img     *canvas.Image
	bg      *canvas.Rectangle
	control bool
	held    map[string]bool // keys whose press went to the PC, to send their release
}

// maxDirty bounds the regions waiting for a present.
const maxDirty = 1024

func newScreenView(send func(wire.InputEvent)) *screenView {
	v := &screenView{send: send, fit: true, held: map[string]bool{}}
	v.img = &canvas.Image{FillMode: canvas.ImageFillStretch, ScaleMode: canvas.ImageScaleSmooth}
	v.bg = canvas.NewRectangle(screenBackground)
	v.ExtendBaseWidget(v)
	return v
}

// receive copies a frame's changed regions, on the stream's goroutine, and
// returns whether a present must be queued (one at a time, so the view
// refreshes at most at the frame rate it can keep up with).
func (v *screenView) receive(img *image.RGBA, dirty []image.Rectangle) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.pending == nil || v.pending.Rect != img.Rect {
		v.pending = image.NewRGBA(img.Rect)
		dirty = []image.Rectangle{img.Rect}
	}
	for _, r := range dirty {
		r = r.Intersect(img.Rect)
		draw.Draw(v.pending, r, img, r.Min, draw.Src)
		v.dirty = append(v.dirty, r)
	}
	if len(v.dirty) > maxDirty { // the Fyne goroutine is behind: one box instead
		u := v.dirty[0]
		for _, r := range v.dirty[1:] {
			u = u.Union(r)
		}
		v.dirty = append(v.dirty[:0], u)
	}
	queue := !v.scheduled
	v.scheduled = true
	return queue
}

// present brings the received regions on screen (Fyne goroutine).
func (v *screenView) present() {
	v.mu.Lock()
	resized := v.shown == nil || v.shown.Rect != v.pending.Rect
	if resized {
		v.shown = image.NewRGBA(v.pending.Rect)
		v.dirty = []image.Rectangle{v.pending.Rect}
	}
	for _, r := range v.dirty {
		draw.Draw(v.shown, r, v.pending, r.Min, draw.Src)
	}
	v.dirty, v.scheduled = v.dirty[:0], false
	v.img.Image = v.shown
	v.mu.Unlock()
	if resized {
		v.Refresh() // the size and so the layout changed
		return
	}
	v.img.Refresh()
}

// snapshot copies what the view shows (nil before the first frame).
func (v *screenView) snapshot() *image.RGBA {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.shown == nil {
		return nil
	}
	c := image.NewRGBA(v.shown.Rect)
	copy(c.Pix, v.shown.Pix)
	return c
}

// setFit switches between fitting the view and 1:1.
func (v *screenView) setFit(fit bool) {
	v.mu.Lock()
	v.fit = fit
	v.img.ScaleMode = canvas.ImageScalePixels
	if fit {
		v.img.ScaleMode = canvas.ImageScaleSmooth
	}
	v.mu.Unlock()
	v.Refresh()
	if v.scroll != nil {
		v.scroll.Refresh()
	}
}

// imageSize is the shown image's size in pixels (0 before a frame) and
// whether it is fitted to the view.
func (v *screenView) imageSize() (int, int, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.shown == nil {
		return 0, 0, v.fit
	}
	return v.shown.Rect.Dx(), v.shown.Rect.Dy(), v.fit
}

// pixelSize is one screen pixel in Fyne units, for 1:1.
func (v *screenView) pixelSize() float32 {
	if c := fyne.CurrentApp().Driver().CanvasForObject(v); c != nil && c.Scale() > 0 {
		return 1 / c.Scale()
	}
	return 1
}

// placement is where the image is drawn in the view and how many units
// one image pixel takes.
func (v *screenView) placement(size fyne.Size) (fyne.Position, float32) {
	w, h, fit := v.imageSize()
	if w == 0 || h == 0 {
		return fyne.Position{}, 1
	}
	if !fit {
		return fyne.Position{}, v.pixelSize()
	}
	k := min(size.Width/float32(w), size.Height/float32(h))
	return fyne.NewPos((size.Width-float32(w)*k)/2, (size.Height-float32(h)*k)/2), k
}

// toImage maps a point in the view to the captured image's pixel,
// clamped to the image; ok is false before the first frame.
func (v *screenView) toImage(p fyne.Position) (x, y int, ok bool) {
	w, h, _ := v.imageSize()
	if w == 0 || h == 0 {
		return 0, 0, false
	}
	off, k := v.placement(v.Size())
	x = int((p.X - off.X) / k)
	y = int((p.Y - off.Y) / k)
	return min(max(x, 0), w-1), min(max(y, 0), h-1), true
}

func (v *screenView) MinSize() fyne.Size {
	w, h, fit := v.imageSize()
	if fit || w == 0 {
		return fyne.NewSize(160, 90)
	}
	k := v.pixelSize()
	return fyne.NewSize(float32(w)*k, float32(h)*k)
}

func (v *screenView) CreateRenderer() fyne.WidgetRenderer {
	return &screenViewRenderer{v: v}
}

type screenViewRenderer struct{ v *screenView }

func (r *screenViewRenderer) Layout(size fyne.Size) {
	r.v.bg.Resize(size)
	off, k := r.v.placement(size)
	w, h, _ := r.v.imageSize()
	r.v.img.Move(off)
	r.v.img.Resize(fyne.NewSize(float32(w)*k, float32(h)*k))
}
func (r *screenViewRenderer) MinSize() fyne.Size { return r.v.MinSize() }
func (r *screenViewRenderer) Refresh() {
	r.Layout(r.v.Size())
	r.v.bg.Refresh()
	r.v.img.Refresh()
}
func (r *screenViewRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.v.bg, r.v.img}
}
func (r *screenViewRenderer) Destroy() {}

// setControl turns input on or off; switching off releases what is held.
func (v *screenView) setControl(on bool) {
	if !on {
		v.releaseAll()
	}
	v.control = on
}

// pointer sends a move to where the mouse is, and returns the image point.
func (v *screenView) pointer(p fyne.Position) (int, int, bool) {
	x, y, ok := v.toImage(p)
	if ok && v.control {
		v.send(wire.InputEvent{Kind: wire.InputMove, X: x, Y: y})
	}
	return x, y, ok && v.control
}

func (v *screenView) MouseIn(e *desktop.MouseEvent)    { v.pointer(e.Position) }
func (v *screenView) MouseMoved(e *desktop.MouseEvent) { v.pointer(e.Position) }
func (v *screenView) MouseOut()                        {}

// Dragged is the mouse moving with a button held. Being Draggable makes
// the driver deliver the MouseUp here even when the button is released
// outside the view, so the PC never keeps a button pressed.
func (v *screenView) Dragged(e *fyne.DragEvent) { v.pointer(e.Position) }
func (v *screenView) DragEnd()                  {}

func (v *screenView) MouseDown(e *desktop.MouseEvent) { v.button(e, true) }
func (v *screenView) MouseUp(e *desktop.MouseEvent)   { v.button(e, false) }

func (v *screenView) button(e *desktop.MouseEvent, down bool) {
	x, y, ok := v.toImage(e.Position)
	if !ok || !v.control {
		return
	}
	b := 1
	switch e.Button {
	case desktop.MouseButtonSecondary:
		b = 3
	case desktop.MouseButtonTertiary:
		b = 2
	}
	v.send(wire.InputEvent{Kind: wire.InputButton, X: x, Y: y, Button: b, Down: down})
}

// Tapped only takes the keyboard: the button itself went as MouseDown and
// MouseUp, which the driver delivers before the tap.
func (v *screenView) Tapped(*fyne.PointEvent) { v.focus() }

// TappedSecondary likewise.
func (v *screenView) TappedSecondary(*fyne.PointEvent) { v.focus() }

func (v *screenView) focus() {
	if c := fyne.CurrentApp().Driver().CanvasForObject(v); c != nil && v.control {
		c.Focus(v)
	}
}

// Scrolled sends the wheel while Control is on (Fyne gives about 10 units
// a notch; Windows counts 120), and scrolls the 1:1 view otherwise.
func (v *screenView) Scrolled(e *fyne.ScrollEvent) {
	if !v.control {
		if v.scroll != nil {
			v.scroll.Scrolled(e)
		}
		return
	}
	dx, dy := int(e.Scrolled.DX*12), int(e.Scrolled.DY*12)
	if dx != 0 || dy != 0 {
		v.send(wire.InputEvent{Kind: wire.InputWheel, DX: dx, DY: dy})
	}
}

func (v *screenView) FocusGained() {}

// FocusLost releases what is held, or the PC would keep a key pressed.
func (v *screenView) FocusLost() { v.releaseAll() }

// AcceptsTab keeps Tab for the PC instead of moving the focus.
func (v *screenView) AcceptsTab() bool { return v.control }

// TypedRune sends text typed without Ctrl, Alt or Windows (layouts and
// Shift are the station's; the PC types the character).
func (v *screenView) TypedRune(r rune) {
	if v.control && !v.modified() {
		v.send(wire.InputEvent{Kind: wire.InputText, Text: string(r)})
	}
}

// TypedKey is left to KeyDown and KeyUp, which carry every press.
func (v *screenView) TypedKey(*fyne.KeyEvent) {}

// KeyDown sends a key that is not text — modifiers, arrows, F keys — and
// letters pressed with Ctrl, Alt or Windows (shortcuts on the PC).
func (v *screenView) KeyDown(e *fyne.KeyEvent) {
	if !v.control {
		return
	}
	if k, ok := v.keyName(e.Name); ok {
		v.held[k] = true
		v.send(wire.InputEvent{Kind: wire.InputKey, Key: k, Down: true})
	}
}

func (v *screenView) KeyUp(e *fyne.KeyEvent) {
	k := wireKey(e.Name)
	if !v.held[k] {
		return // its press was text, or came before Control
	}
	delete(v.held, k)
	v.send(wire.InputEvent{Kind: wire.InputKey, Key: k, Down: false})
}

// TypedShortcut sends a shortcut Fyne took for itself (Ctrl+C, Ctrl+V, …)
// as the key presses it is, unless KeyDown already sent its key.
func (v *screenView) TypedShortcut(s fyne.Shortcut) {
	ks, ok := s.(fyne.KeyboardShortcut)
	if !v.control || !ok {
		return
	}
	key := wireKey(ks.Key())
	if v.held[key] {
		return
	}
	var mods []string
	for _, m := range []struct {
		mod fyne.KeyModifier
		key string
	}{{fyne.KeyModifierControl, wire.KeyControl}, {fyne.KeyModifierAlt, wire.KeyAlt}, {fyne.KeyModifierShift, wire.KeyShift}, {fyne.KeyModifierSuper, wire.KeySuper}} {
		if ks.Mod()&m.mod != 0 && !v.held[m.key] {
			mods = append(mods, m.key)
		}
	}
	for _, m := range mods {
		v.send(wire.InputEvent{Kind: wire.InputKey, Key: m, Down: true})
	}
	v.send(wire.InputEvent{Kind: wire.InputKey, Key: key, Down: true})
	v.send(wire.InputEvent{Kind: wire.InputKey, Key: key, Down: false})
	for i := len(mods) - 1; i >= 0; i-- {
		v.send(wire.InputEvent{Kind: wire.InputKey, Key: mods[i], Down: false})
	}
}

// keyName is the wire name of a key KeyDown sends: every non-text key, and
// a text key only while Ctrl, Alt or Windows is held.
func (v *screenView) keyName(n fyne.KeyName) (string, bool) {
	k := wireKey(n)
	if len([]rune(k)) == 1 || k == wire.KeySpace {
		return k, v.modified()
	}
	return k, k != ""
}

// modified says whether Ctrl, Alt or Windows is held on the PC.
func (v *screenView) modified() bool {
	return v.held[wire.KeyControl] || v.held[wire.KeyAlt] || v.held[wire.KeySuper]
}

// releaseAll sends the release of every key still held.
func (v *screenView) releaseAll() {
	for k := range v.held {
		v.send(wire.InputEvent{Kind: wire.InputKey, Key: k, Down: false})
		delete(v.held, k)
	}
}

// wireKey maps Fyne's key name to the wire's: the same names, right-hand
// modifiers as left-hand ones, the keypad's Enter as Return, letters
// lowercase.
func wireKey(n fyne.KeyName) string {
	switch n {
	case desktop.KeyShiftRight:
		return wire.KeyShift
	case desktop.KeyControlRight:
		return wire.KeyControl
	case desktop.KeyAltRight:
		return wire.KeyAlt
	case desktop.KeySuperRight:
		return wire.KeySuper
	case fyne.KeyEnter:
		return wire.KeyReturn
	case fyne.KeyUnknown:
		return ""
	}
	s := string(n)
	if r := []rune(s); len(r) == 1 && unicode.IsLetter(r[0]) {
		return strings.ToLower(s)
	}
	return s
}
