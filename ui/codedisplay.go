package ui

import (
	"image"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/skip2/go-qrcode"
)

// codeDisplay shows a security code in very large monospace digits above a
// QR code of the deployment link. The QR is drawn in the theme's foreground
// and background colours, one image pixel per module scaled without
// smoothing, so it stays crisp at any size. Whichever of the two colours is
// darker draws the modules: many scanners (ZXing by default, older phone
// apps) cannot read a light-on-dark code, so in a dark theme the QR sits on
// a light square made of the theme's own foreground colour.
type codeDisplay struct {
	widget.BaseWidget

	code, link string

	text *canvas.Text
	qr   *canvas.Image

	// what the current QR image was drawn with, to redraw only on change
	drawnLink   string
	drawnFG     color.Color
	drawnBG     color.Color
	codeSizeFac float32
}

var _ fyne.Widget = (*codeDisplay)(nil)

// codeQRSize is the QR code's size on screen; a phone reads it from a metre.
const codeQRSize = 220

func newCodeDisplay() *codeDisplay {
	d := &codeDisplay{
		text: &canvas.Text{Alignment: fyne.TextAlignCenter,
			TextStyle: fyne.TextStyle{Monospace: true}},
		qr:          &canvas.Image{ScaleMode: canvas.ImageScalePixels, FillMode: canvas.ImageFillContain},
		codeSizeFac: 4,
	}
	d.qr.SetMinSize(fyne.NewSquareSize(codeQRSize))
	d.ExtendBaseWidget(d)
	return d
}

// setCode shows code and a QR code of link; empty strings clear both, so a
// code that must not be seen again leaves nothing behind on screen.
func (d *codeDisplay) setCode(code, link string) {
	d.code, d.link = code, link
	d.Refresh()
}

// Refresh also runs when the theme changes: the colours are re-read here.
func (d *codeDisplay) Refresh() {
	d.restyle()
	d.BaseWidget.Refresh()
}

func (d *codeDisplay) CreateRenderer() fyne.WidgetRenderer {
	d.restyle()
	return widget.NewSimpleRenderer(container.NewVBox(d.text, container.NewCenter(d.qr)))
}

func (d *codeDisplay) restyle() {
	th := d.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	fg := th.Color(theme.ColorNameForeground, v)
	bg := th.Color(theme.ColorNameBackground, v)
	d.text.Text = d.code
	d.text.Color = fg
	d.text.TextSize = th.Size(theme.SizeNameText) * d.codeSizeFac
	if d.link == d.drawnLink && sameColor(fg, d.drawnFG) && sameColor(bg, d.drawnBG) {
		return
	}
	d.drawnLink, d.drawnFG, d.drawnBG = d.link, fg, bg
	d.qr.Image = nil
	d.qr.Hidden = d.link == ""
	if d.link == "" {
		return
	}
	modules, paper := fg, bg
	if luminance(fg) > luminance(bg) {
		modules, paper = bg, fg
	}
	img, err := qrImage(d.link, modules, paper)
	if err != nil {
		// A link too long for a QR code still works by copy and paste.
		d.qr.Hidden = true
		return
	}
	d.qr.Image = img
}

// qrImage encodes link at medium error correction, one pixel per module.
func qrImage(link string, fg, bg color.Color) (image.Image, error) {
	q, err := qrcode.New(link, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	q.ForegroundColor, q.BackgroundColor = fg, bg
	return q.Image(-1), nil
}

func sameColor(a, b color.Color) bool {
	if a == nil || b == nil {
		return a == b
	}
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}

// luminance is a colour's relative brightness (ITU-R BT.709 weights).
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return 0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)
}
