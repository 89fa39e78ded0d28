package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
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
	scroll := container.NewVScroll(container.NewPadded(body))
	if len(bar) == 0 {
		return scroll
	}
	bottom := container.NewVBox(append([]fyne.CanvasObject{widget.NewSeparator()}, bar...)...)
	return container.NewBorder(nil, container.NewPadded(bottom), nil, nil, scroll)
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
