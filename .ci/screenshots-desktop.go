//go:build linux

// The stand-in PC's screen for the README's Screen tab screenshot: a
// second Xvfb display with a made-up Windows desktop drawn on it (the
// Settings app's printers page over a wallpaper, a taskbar), served by the
// agent's real screen code through x11desk. Built with screenshots-pc.go.
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"adhocstation/agent/screen"
	"adhocstation/agent/x11desk"
	"adhocstation/agent/x11desk/x11test"
)

// The PC's screen: a common laptop size.
const deskW, deskH = 1366, 768

// screenDesktop starts the display, draws the desktop on it and returns
// how the agent opens it, and a function that stops it all.
func screenDesktop() (func() (screen.Desktop, error), func(), error) {
	x, err := x11test.StartXvfb(deskW, deskH, 30*time.Second)
	if err != nil {
		return nil, nil, err
	}
	prog, err := x11test.StartProgram(x.Display, color.RGBA{0, 60, 130, 255})
	if err != nil {
		x.Close()
		return nil, nil, err
	}
	stop := func() { prog.Close(); x.Close() }
	img, err := madeUpDesktop()
	if err == nil {
		err = prog.Draw(img)
	}
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("the made-up desktop could not be drawn: %w", err)
	}
	return func() (screen.Desktop, error) { return x11desk.Open(x.Display) }, stop, nil
}

// painter draws flat shapes and text on an image.
type painter struct {
	img               *image.RGBA
	small, body, bold font.Face
	title             font.Face
}

func face(ttf []byte, size float64) (font.Face, error) {
	f, err := opentype.Parse(ttf)
	if err != nil {
		return nil, err
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
}

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 255} }

func (p *painter) rect(x, y, w, h int, c color.RGBA) {
	draw.Draw(p.img, image.Rect(x, y, x+w, y+h), image.NewUniform(c), image.Point{}, draw.Src)
}

// frame is a one-pixel outline.
func (p *painter) frame(x, y, w, h int, c color.RGBA) {
	p.rect(x, y, w, 1, c)
	p.rect(x, y+h-1, w, 1, c)
	p.rect(x, y, 1, h, c)
	p.rect(x+w-1, y, 1, h, c)
}

func (p *painter) circle(cx, cy, r int, c color.RGBA) {
	for y := -r; y <= r; y++ {
		for x := -r; x <= r; x++ {
			if x*x+y*y <= r*r {
				p.img.SetRGBA(cx+x, cy+y, c)
			}
		}
	}
}

// text draws s with its baseline at y; align 0 left, 1 right of x.
func (p *painter) text(f font.Face, x, y int, c color.RGBA, s string, right bool) {
	d := &font.Drawer{Dst: p.img, Src: image.NewUniform(c), Face: f}
	if right {
		x -= d.MeasureString(s).Round()
	}
	d.Dot = fixed.P(x, y)
	d.DrawString(s)
}

func (p *painter) centred(f font.Face, cx, y int, c color.RGBA, s string) {
	d := &font.Drawer{Face: f}
	p.text(f, cx-d.MeasureString(s).Round()/2, y, c, s, false)
}

// madeUpDesktop is the picture: wallpaper, icons, the Settings window
// and the taskbar.
func madeUpDesktop() (*image.RGBA, error) {
	p := &painter{img: image.NewRGBA(image.Rect(0, 0, deskW, deskH))}
	var err error
	faces := []struct {
		dst  *font.Face
		ttf  []byte
		size float64
	}{{&p.small, goregular.TTF, 12}, {&p.body, goregular.TTF, 14}, {&p.bold, gobold.TTF, 14}, {&p.title, gobold.TTF, 24}}
	for _, f := range faces {
		if *f.dst, err = face(f.ttf, f.size); err != nil {
			return nil, err
		}
	}
	p.wallpaper()
	p.icons()
	p.settings(300, 70, 800, 600)
	p.taskbar()
	return p.img, nil
}

// wallpaper: deep blue with a lighter bloom, like Windows 11's.
func (p *painter) wallpaper() {
	for y := range deskH {
		for x := range deskW {
			dx, dy := float64(x-deskW*3/5)/deskW, float64(y-deskH/2)/deskH
			glow := math.Exp(-(dx*dx*6 + dy*dy*10))
			t := float64(y) / deskH
			p.img.SetRGBA(x, y, rgb(uint8(10+40*glow), uint8(40+30*(1-t)+90*glow), uint8(110+40*(1-t)+100*glow)))
		}
	}
}

func (p *painter) icons() {
	white := rgb(255, 255, 255)
	label := func(y int, s string) {
		p.centred(p.small, 52, y+1, rgb(0, 0, 0), s)
		p.centred(p.small, 51, y, white, s)
	}
	// Recycle Bin
	p.rect(36, 24, 30, 4, rgb(200, 210, 220))
	p.rect(39, 28, 24, 30, rgb(170, 185, 200))
	for x := 44; x < 60; x += 6 {
		p.rect(x, 32, 2, 22, rgb(120, 135, 150))
	}
	label(76, "Recycle Bin")
	// a folder
	p.rect(34, 110, 14, 6, rgb(230, 180, 40))
	p.rect(34, 116, 36, 26, rgb(250, 205, 70))
	label(160, "Drivers")
	// a text file
	p.rect(38, 194, 28, 34, rgb(250, 250, 250))
	for y := 202; y < 224; y += 5 {
		p.rect(43, y, 18, 2, rgb(150, 150, 150))
	}
	label(244, "printer notes.txt")
}

// settings draws the Settings app at its printers page.
func (p *painter) settings(x, y, w, h int) {
	bg, card, line := rgb(243, 243, 243), rgb(251, 251, 251), rgb(229, 229, 229)
	ink, grey, accent := rgb(27, 27, 27), rgb(96, 96, 96), rgb(0, 95, 184)
	p.rect(x-1, y-1, w+2, h+2, rgb(80, 90, 110)) // the window's edge
	p.rect(x, y, w, h, bg)
	// Title bar: the app's name; minimise, maximise, close.
	p.text(p.small, x+16, y+21, ink, "Settings", false)
	p.rect(x+w-126, y+16, 10, 1, ink)
	p.frame(x+w-80, y+11, 10, 10, ink)
	for i := range 10 {
		p.img.SetRGBA(x+w-34+i, y+11+i, ink)
		p.img.SetRGBA(x+w-25-i, y+11+i, ink)
	}
	// Navigation: the account, the search box, the pages.
	p.circle(x+44, y+76, 24, rgb(200, 210, 225))
	p.circle(x+44, y+68, 9, rgb(120, 135, 160))
	p.rect(x+30, y+82, 28, 12, rgb(120, 135, 160))
	p.text(p.bold, x+78, y+72, ink, "anna", false)
	p.text(p.small, x+78, y+90, grey, "Local Account", false)
	p.rect(x+16, y+118, 228, 32, card)
	p.frame(x+16, y+118, 228, 32, line)
	p.rect(x+17, y+148, 226, 2, grey)
	p.text(p.body, x+28, y+139, grey, "Find a setting", false)
	pages := []string{"Home", "System", "Bluetooth & devices", "Network & internet", "Personalisation",
		"Apps", "Accounts", "Time & language", "Gaming", "Accessibility", "Privacy & security", "Windows Update"}
	for i, name := range pages {
		py := y + 166 + i*36
		if name == "Bluetooth & devices" {
			p.rect(x+12, py, 236, 32, rgb(234, 234, 234))
			p.rect(x+12, py+9, 3, 14, accent)
		}
		p.rect(x+30, py+10, 12, 12, rgb(90, 120, 170))
		p.text(p.body, x+54, py+21, ink, name, false)
	}
	// The page.
	cx, cw := x+276, w-300
	p.text(p.title, cx, y+76, grey, "Bluetooth & devices  ›", false)
	p.text(p.title, cx+268, y+76, ink, "Printers & scanners", false)
	p.rect(cx, y+100, cw, 60, card)
	p.frame(cx, y+100, cw, 60, line)
	p.text(p.body, cx+20, y+135, ink, "Add a printer or scanner", false)
	p.rect(cx+cw-130, y+114, 110, 32, accent)
	p.centred(p.body, cx+cw-75, y+135, rgb(255, 255, 255), "Add device")
	printers := []struct{ name, state string }{
		{"HP LaserJet Pro M404dn (by the window)", "Error – printing · 3 documents waiting"},
		{"Microsoft Print to PDF", "Idle"},
		{"OneNote (Desktop)", "Idle"},
		{"Fax", "Idle"},
	}
	for i, pr := range printers {
		py := y + 172 + i*66
		p.rect(cx, py, cw, 62, card)
		p.frame(cx, py, cw, 62, line)
		p.rect(cx+20, py+18, 30, 18, rgb(110, 110, 115)) // a printer: body, paper, tray
		p.rect(cx+26, py+12, 18, 8, rgb(245, 245, 245))
		p.rect(cx+24, py+36, 22, 6, rgb(200, 200, 205))
		p.text(p.body, cx+70, py+27, ink, pr.name, false)
		state := grey
		if i == 0 {
			state = rgb(196, 43, 28)
		}
		p.text(p.small, cx+70, py+46, state, pr.state, false)
		p.text(p.title, cx+cw-24, py+40, grey, "›", true)
	}
	p.text(p.bold, cx, y+460, ink, "Printer preferences", false)
	p.rect(cx, y+474, cw, 62, card)
	p.frame(cx, y+474, cw, 62, line)
	p.text(p.body, cx+20, y+500, ink, "Let Windows manage my default printer", false)
	p.text(p.small, cx+20, y+519, grey, "The default printer is the one you used most recently at this location", false)
	p.text(p.body, cx+cw-70, y+510, ink, "On", true)
	p.rect(cx+cw-62, y+495, 40, 20, accent)
	p.circle(cx+cw-32, y+505, 6, rgb(255, 255, 255))
}

// taskbar: centred app icons, the clock on the right.
func (p *painter) taskbar() {
	const h = 48
	y := deskH - h
	p.rect(0, y, deskW, h, rgb(32, 36, 44))
	p.rect(0, y, deskW, 1, rgb(60, 66, 78))
	x0 := deskW/2 - 5*44/2
	// Start: four squares.
	for i := range 4 {
		p.rect(x0+8+(i%2)*13, y+11+(i/2)*13, 12, 12, rgb(60, 170, 250))
	}
	// Search, File Explorer, Edge, Settings (open: a bar under it).
	p.frame(x0+44+8, y+13, 22, 22, rgb(220, 220, 220))
	p.circle(x0+44+17, y+22, 5, rgb(220, 220, 220))
	p.rect(x0+88+6, y+14, 10, 5, rgb(230, 180, 40))
	p.rect(x0+88+6, y+18, 26, 17, rgb(250, 205, 70))
	p.circle(x0+132+19, y+24, 12, rgb(30, 160, 170))
	p.circle(x0+132+22, y+22, 6, rgb(32, 36, 44))
	p.circle(x0+176+19, y+24, 11, rgb(150, 160, 175))
	p.circle(x0+176+19, y+24, 4, rgb(32, 36, 44))
	p.rect(x0+176+12, y+h-5, 14, 3, rgb(150, 200, 250))
	white := rgb(240, 240, 240)
	p.text(p.small, deskW-14, y+21, white, "10:42", true)
	p.text(p.small, deskW-14, y+38, white, "01/12/2026", true)
	p.text(p.small, deskW-100, y+29, white, "ENG", true)
}
