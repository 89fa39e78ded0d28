package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The pieces below keep every page usable in a small window (1280×720, or
// full screen with the kiosk's larger type): a page scrolls inside its tab
// while its action buttons stay in a fixed bar, and nothing asks for more
// width than the narrowest window the station supports.

// scrollPage is a page whose body scrolls above a fixed bar of actions, so
// the buttons are on screen however long the body grows.
func scrollPage(body fyne.CanvasObject, bar ...fyne.CanvasObject) fyne.CanvasObject {
	page, _ := scrollPageOf(body, bar...)
	return page
}

// scrollPageOf is scrollPage that also returns the page's scroll, for the
// fields that bring themselves into view in it.
func scrollPageOf(body fyne.CanvasObject, bar ...fyne.CanvasObject) (fyne.CanvasObject, *container.Scroll) {
	scroll := container.NewVScroll(container.NewPadded(body))
	if len(bar) == 0 {
		return withPageWheel(scroll), scroll
	}
	bottom := container.NewVBox(append([]fyne.CanvasObject{widget.NewSeparator()}, bar...)...)
	return container.NewBorder(nil, container.NewPadded(bottom), nil, nil, withPageWheel(scroll)), scroll
}

// centredMessage shows a wrapped message in the middle of an empty list. A
// wrapped label needs a width to wrap to: a Center layout would give it
// none and it would ask for the height of one word per line.
func centredMessage(l *widget.Label) fyne.CanvasObject {
	l.Wrapping = fyne.TextWrapWord
	l.Alignment = fyne.TextAlignCenter
	return container.NewVBox(layout.NewSpacer(), l, layout.NewSpacer())
}

// reflowVBox stacks objects as a VBox does, but measures each one at the
// width it is given: a wrapped label needs more lines once the window is
// narrowed, and a VBox, which measures before it resizes, would lay the
// next row over those lines (the form's intro at 800×600). The minimum
// size it then reports includes them, and the driver lays the page out
// again.
type reflowVBox struct{}

func (reflowVBox) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		o.Resize(fyne.NewSize(size.Width, o.MinSize().Height))
		h := o.MinSize().Height // now at this width
		o.Resize(fyne.NewSize(size.Width, h))
		o.Move(fyne.NewPos(0, y))
		y += h + theme.Padding()
	}
}

func (reflowVBox) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return layout.NewVBoxLayout().MinSize(objs)
}

// fixedWidth lays its objects out one above the other at a given width (or
// the whole width, if less is available), so wrapped text inside it has a
// width to wrap to when it is centred on a page.
type fixedWidth struct{ width float32 }

func (l fixedWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	layout.NewVBoxLayout().Layout(objs, size)
}

func (l fixedWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	m := layout.NewVBoxLayout().MinSize(objs)
	return fyne.NewSize(max(m.Width, l.width), m.Height)
}

// sideBySide shows two objects in two equal columns when the width allows
// both, and one above the other when it does not, so a two-column page fits
// a narrow window. Its height follows the width it was last laid out at;
// Fyne re-lays a container out when its minimum size changes.
type sideBySide struct{ width float32 }

func (l *sideBySide) columns(objs []fyne.CanvasObject, width float32) bool {
	return width >= 2*max(objs[0].MinSize().Width, objs[1].MinSize().Width)+theme.Padding()
}

func (l *sideBySide) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	l.width = size.Width
	pad := theme.Padding()
	if l.columns(objs, size.Width) {
		w := (size.Width - pad) / 2
		objs[0].Move(fyne.NewPos(0, 0))
		objs[0].Resize(fyne.NewSize(w, size.Height))
		objs[1].Move(fyne.NewPos(w+pad, 0))
		objs[1].Resize(fyne.NewSize(w, size.Height))
		return
	}
	h := objs[0].MinSize().Height
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(fyne.NewSize(size.Width, h))
	objs[1].Move(fyne.NewPos(0, h+pad))
	objs[1].Resize(fyne.NewSize(size.Width, max(objs[1].MinSize().Height, size.Height-h-pad)))
}

func (l *sideBySide) MinSize(objs []fyne.CanvasObject) fyne.Size {
	a, b := objs[0].MinSize(), objs[1].MinSize()
	w := max(a.Width, b.Width)
	if l.width == 0 || l.columns(objs, l.width) {
		return fyne.NewSize(w, max(a.Height, b.Height))
	}
	return fyne.NewSize(w, a.Height+theme.Padding()+b.Height)
}

// formEntry is an Entry that its page and dialog can follow: focused (Tab
// onto a field below the fold) it scrolls itself into view in scroll, and
// Escape in it calls onEscape (closing the dialog it is in), since a
// focused entry takes every key before the window does.
type formEntry struct {
	widget.Entry
	scroll   *container.Scroll // the page's, nil outside one
	onEscape func()
}

func newFormEntry(placeholder string) *formEntry {
	e := &formEntry{}
	e.PlaceHolder = placeholder
	e.ExtendBaseWidget(e)
	return e
}

// newFormPasswordEntry is newFormEntry for a password: Entry's renderer adds
// the show/hide button itself when Password is set, as NewPasswordEntry does.
func newFormPasswordEntry(placeholder string) *formEntry {
	e := newFormEntry(placeholder)
	e.Password = true
	e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	return e
}

func (e *formEntry) FocusGained() {
	e.Entry.FocusGained()
	if e.scroll != nil {
		scrollToShow(e.scroll, e)
	}
}

func (e *formEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.onEscape != nil {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(k)
}

// escButton is a Button for a dialog whose Escape key must work while the
// button has focus (Tab onto it): a Button takes every key and ignores
// Escape.
type escButton struct {
	widget.Button
	onEscape func()
}

func newEscButton(text string, tapped func()) *escButton {
	b := &escButton{}
	b.Text, b.OnTapped = text, tapped
	b.ExtendBaseWidget(b)
	return b
}

func (b *escButton) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && b.onEscape != nil {
		b.onEscape()
		return
	}
	b.Button.TypedKey(k)
}

// escapeWhileShown hides d on Escape typed while nothing in the window has
// focus (the window hands keys to the canvas only then), until d closes;
// the canvas's own key handler gets every other key meanwhile and is put
// back when d closes.
func escapeWhileShown(c fyne.Canvas, d dialog.Dialog) {
	prev := c.OnTypedKey()
	c.SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			d.Hide()
			return
		}
		if prev != nil {
			prev(k)
		}
	})
	d.SetOnClosed(func() { c.SetOnTypedKey(prev) })
}

// scrollToShow scrolls s the least that brings o wholly into its view.
func scrollToShow(s *container.Scroll, o fyne.CanvasObject) {
	d := fyne.CurrentApp().Driver()
	top := d.AbsolutePositionForObject(o).Y - d.AbsolutePositionForObject(s).Y
	bottom := top + o.Size().Height
	off := s.Offset
	switch {
	case top < 0:
		off.Y += top - theme.Padding()
	case bottom > s.Size().Height:
		off.Y += bottom - s.Size().Height + theme.Padding()
	default:
		return
	}
	s.ScrollToOffset(off)
}

// wheelToPage lies over a scrolling page and hands it the mouse wheel. An
// entry scrolls its own line and would keep the wheel while the pointer is
// over it; the page's entries are single lines, so the page takes it. It
// takes no taps, hovers or drags, which reach what lies under it.
type wheelToPage struct {
	widget.BaseWidget
	page *container.Scroll
}

var _ fyne.Scrollable = (*wheelToPage)(nil)

func withPageWheel(page *container.Scroll) fyne.CanvasObject {
	w := &wheelToPage{page: page}
	w.ExtendBaseWidget(w)
	return container.NewStack(page, w)
}

func (w *wheelToPage) Scrolled(e *fyne.ScrollEvent) { w.page.Scrolled(e) }

func (w *wheelToPage) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(layout.NewSpacer())
}
