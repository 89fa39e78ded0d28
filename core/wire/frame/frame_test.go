package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"testing"
)

// desktop draws something like a screen: a flat background, windows with
// text-like strokes in a few colours, and a photo-like area (a noisy
// gradient) at photo.
func desktop(w, h int, seed uint64, photo image.Rectangle) *image.RGBA {
	rnd := rand.New(rand.NewPCG(seed, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fill(img, img.Bounds(), color.RGBA{40, 90, 140, 255})
	for i := range 6 {
		win := image.Rect(40+i*150, 30+i*70, 40+i*150+700, 30+i*70+420).Intersect(img.Bounds())
		fill(img, win, color.RGBA{245, 245, 245, 255})
		fill(img, image.Rect(win.Min.X, win.Min.Y, win.Max.X, win.Min.Y+24).Intersect(win), color.RGBA{60, 60, 70, 255})
		text(img, win.Inset(30), rnd)
	}
	for y := photo.Min.Y; y < photo.Max.Y; y++ {
		for x := photo.Min.X; x < photo.Max.X; x++ {
			n := uint8(rnd.IntN(8))
			img.SetRGBA(x, y, color.RGBA{uint8(x) + n, uint8(y) + n, uint8(x+y)/2 + n, 255})
		}
	}
	return img
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// text puts glyph-sized clusters of dark and antialiased grey pixels on
// lines, the way a page of text looks to a compressor.
func text(img *image.RGBA, r image.Rectangle, rnd *rand.Rand) {
	shades := []color.RGBA{{20, 20, 20, 255}, {110, 110, 110, 255}, {180, 180, 180, 255}}
	for y := r.Min.Y; y+12 < r.Max.Y; y += 18 {
		for x := r.Min.X; x+7 < r.Max.X; x += 8 {
			if rnd.IntN(6) == 0 {
				continue // a space
			}
			for range 14 {
				img.SetRGBA(x+rnd.IntN(7), y+rnd.IntN(12), shades[rnd.IntN(3)])
			}
		}
	}
}

func roundTrip(t *testing.T, e *Encoder, d *Decoder, shown, cur *image.RGBA) (*image.RGBA, Info, int) {
	t.Helper()
	payload, err := e.Encode(cur)
	if err != nil {
		t.Fatal(err)
	}
	if payload == nil {
		return shown, Info{}, 0
	}
	shown, info, err := d.Apply(shown, payload)
	if err != nil {
		t.Fatal(err)
	}
	if info.Seq != e.Seq() {
		t.Fatalf("seq %d, encoder says %d", info.Seq, e.Seq())
	}
	return shown, info, len(payload)
}

// maxDiff is the largest channel difference between a and b inside r.
func maxDiff(a, b *image.RGBA, r image.Rectangle) int {
	worst := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			pa, pb := a.RGBAAt(x, y), b.RGBAAt(x, y)
			for _, d := range []int{int(pa.R) - int(pb.R), int(pa.G) - int(pb.G), int(pa.B) - int(pb.B)} {
				worst = max(worst, d, -d)
			}
		}
	}
	return worst
}

// meanDiff is the average channel difference inside r.
func meanDiff(a, b *image.RGBA, r image.Rectangle) float64 {
	sum := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			pa, pb := a.RGBAAt(x, y), b.RGBAAt(x, y)
			for _, d := range []int{int(pa.R) - int(pb.R), int(pa.G) - int(pb.G), int(pa.B) - int(pb.B)} {
				sum += max(d, -d)
			}
		}
	}
	return float64(sum) / float64(3*r.Dx()*r.Dy())
}

func TestLosslessRoundTripExact(t *testing.T) {
	e, d := NewEncoder(), &Decoder{}
	e.NoJPEG = true
	cur := desktop(1000, 700, 1, image.Rect(600, 400, 900, 650))
	shown, info, _ := roundTrip(t, e, d, nil, cur)
	if !info.Full {
		t.Fatal("the first frame is not full")
	}
	if n := maxDiff(shown, cur, cur.Bounds()); n != 0 {
		t.Fatalf("lossless frame differs by %d", n)
	}
	// A few characters change: a Delta frame, still exact.
	text(cur, image.Rect(300, 300, 340, 330), rand.New(rand.NewPCG(9, 9)))
	shown, info, size := roundTrip(t, e, d, shown, cur)
	if info.Full || len(info.Regions) == 0 {
		t.Fatalf("the change frame: %+v", info)
	}
	if s := e.LastStats(); s.Regions[2] == 0 {
		t.Fatalf("no Delta region for an exact tile: %+v", s)
	}
	if n := maxDiff(shown, cur, cur.Bounds()); n != 0 {
		t.Fatalf("delta frame differs by %d", n)
	}
	t.Logf("a few characters: %d bytes", size)
	// Nothing changed: no frame at all.
	if p, err := e.Encode(cur); p != nil || err != nil {
		t.Fatalf("an unchanged capture gave %d bytes, %v", len(p), err)
	}
}

func TestPhotoRegionIsJPEGWithinTolerance(t *testing.T) {
	e, d := NewEncoder(), &Decoder{}
	photo := image.Rect(128, 128, 640, 512)
	cur := desktop(1024, 768, 2, photo)
	shown, _, _ := roundTrip(t, e, d, nil, cur)
	s := e.LastStats()
	if s.Regions[3] == 0 || s.Regions[1] == 0 {
		t.Fatalf("want JPEG for the photo and Raw for the rest: %+v", s)
	}
	// JPEG q70 on this noisy gradient averages ~5 per channel.
	m := meanDiff(shown, cur, photo)
	t.Logf("photo region: mean channel error %.2f", m)
	if m > 8 {
		t.Fatalf("photo region off by %.1f on average", m)
	}
	// Text far from the photo stays exact.
	text := image.Rect(700, 0, 1024, 128)
	if n := maxDiff(shown, cur, text); n != 0 {
		t.Fatalf("text region differs by %d", n)
	}
	// A change over the JPEG tiles is sent Raw, not Delta (the station's
	// pixels there are not exact), and lands exactly.
	fill(cur, image.Rect(130, 130, 200, 140), color.RGBA{1, 2, 3, 255})
	e.NoJPEG = true
	shown, _, _ = roundTrip(t, e, d, shown, cur)
	if s := e.LastStats(); s.Regions[2] != 0 {
		t.Fatalf("Delta over a lossy tile: %+v", s)
	}
	if n := maxDiff(shown, cur, image.Rect(128, 128, 256, 192)); n != 0 {
		t.Fatalf("after the lossless change the tile differs by %d", n)
	}
}

// TestStillJPEGTilesRefined: a photo sent as JPEG that stays still is
// sent again losslessly after RefineAfter captures, once; then nothing.
func TestStillJPEGTilesRefined(t *testing.T) {
	e, d := NewEncoder(), &Decoder{}
	photo := image.Rect(128, 128, 640, 512)
	cur := desktop(1024, 768, 2, photo)
	shown, _, _ := roundTrip(t, e, d, nil, cur)
	if worst := maxDiff(shown, cur, photo); worst == 0 {
		t.Fatal("the photo was not sent lossy")
	}
	for i := range e.RefineAfter {
		if p, _ := e.Encode(cur); p != nil {
			t.Fatalf("capture %d of a still screen gave a frame before RefineAfter", i+1)
		}
	}
	// 48 JPEG tiles, refined 16 a frame.
	total, frames := 0, 0
	for {
		var info Info
		var size int
		shown, info, size = roundTrip(t, e, d, shown, cur)
		if size == 0 {
			break
		}
		if e.LastStats().Regions[3] != 0 || len(info.Regions) == 0 {
			t.Fatalf("not a lossless refinement: %+v, %+v", info, e.LastStats())
		}
		total += size
		frames++
	}
	if frames != 3 {
		t.Fatalf("refined in %d frames", frames)
	}
	if worst := maxDiff(shown, cur, cur.Bounds()); worst != 0 {
		t.Fatalf("after the refinement the screen differs by %d", worst)
	}
	t.Logf("refinement of a %v photo: %d bytes in %d frames", photo.Size(), total, frames)
	for range 2 * e.RefineAfter {
		if p, _ := e.Encode(cur); p != nil {
			t.Fatal("a refined still screen gave another frame")
		}
	}
	// On a slow link (quality lowered) nothing is refined.
	e.Quality = DefaultQuality - 10
	fill(cur, photo, color.RGBA{1, 1, 1, 255})
	shown, _, _ = roundTrip(t, e, d, shown, cur)
	photoAgain := desktop(1024, 768, 2, photo)
	if _, _, size := roundTrip(t, e, d, shown, photoAgain); size == 0 || e.LastStats().Regions[3] == 0 {
		t.Fatal("the photo drawn again was not sent as JPEG")
	}
	for range 3 * e.RefineAfter {
		if p, _ := e.Encode(photoAgain); p != nil {
			t.Fatal("refined while the quality was lowered")
		}
	}
}

func TestRefreshAndResize(t *testing.T) {
	e, d := NewEncoder(), &Decoder{}
	cur := desktop(300, 200, 3, image.Rectangle{})
	shown, _, _ := roundTrip(t, e, d, nil, cur)
	e.Refresh()
	_, info, _ := roundTrip(t, e, d, shown, cur)
	if !info.Full {
		t.Fatal("Refresh did not make a full frame")
	}
	big := desktop(500, 260, 4, image.Rectangle{})
	shown, info, _ = roundTrip(t, e, d, shown, big)
	if !info.Full || shown.Bounds() != big.Bounds() {
		t.Fatalf("resize: full %v, bounds %v", info.Full, shown.Bounds())
	}
	if n := maxDiff(shown, big, big.Bounds()); n != 0 {
		t.Fatalf("after resize differs by %d", n)
	}
	// A capture with a non-zero origin (a sub-image) encodes the same.
	sub := big.SubImage(image.Rect(100, 50, 400, 250)).(*image.RGBA)
	shown, _, _ = roundTrip(t, e, d, shown, sub)
	if n := maxDiff(shown, sub.SubImage(sub.Bounds()).(*image.RGBA), image.Rect(0, 0, 0, 0)); n != 0 || shown.Bounds().Size() != sub.Bounds().Size() {
		t.Fatalf("sub-image: %v", shown.Bounds())
	}
	for y := range 200 {
		for x := range 300 {
			if shown.RGBAAt(x, y) != sub.RGBAAt(100+x, 50+y) {
				t.Fatalf("sub-image pixel %d,%d differs", x, y)
			}
		}
	}
}

func TestDecoderRefusesBadFrames(t *testing.T) {
	e := NewEncoder()
	good, err := e.Encode(desktop(200, 100, 5, image.Rectangle{}))
	if err != nil {
		t.Fatal(err)
	}
	partial := func() []byte {
		img := desktop(200, 100, 5, image.Rectangle{})
		fill(img, image.Rect(0, 0, 10, 10), color.RGBA{255, 0, 0, 255})
		p, _ := e.Encode(img)
		return p
	}()
	mut := func(p []byte, f func([]byte)) []byte {
		c := append([]byte(nil), p...)
		f(c)
		return c
	}
	cases := map[string][]byte{
		"short":        good[:5],
		"version":      mut(good, func(b []byte) { b[0] = 9 }),
		"zero width":   mut(good, func(b []byte) { binary.BigEndian.PutUint16(b[6:], 0) }),
		"huge":         mut(good, func(b []byte) { binary.BigEndian.PutUint16(b[6:], 65535); binary.BigEndian.PutUint16(b[8:], 65535) }),
		"too many":     mut(good, func(b []byte) { binary.BigEndian.PutUint16(b[10:], 60000) }),
		"outside":      mut(good, func(b []byte) { binary.BigEndian.PutUint16(b[headerSize:], 190) }),
		"cut":          good[:len(good)-3],
		"trailing":     append(append([]byte(nil), good...), 0),
		"codec":        mut(good, func(b []byte) { b[headerSize+8] = 'Q' }),
		"partial size": partial,
	}
	for name, p := range cases {
		var dst *image.RGBA
		if name == "partial size" {
			dst = image.NewRGBA(image.Rect(0, 0, 10, 10))
		}
		if _, _, err := (&Decoder{}).Apply(dst, p); !errors.Is(err, ErrFrame) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func BenchmarkEncodeFull1080(b *testing.B) {
	cur := desktop(1920, 1080, 6, image.Rect(1200, 500, 1800, 1000))
	e := NewEncoder()
	size := 0
	for b.Loop() {
		e.Refresh()
		p, _ := e.Encode(cur)
		size = len(p)
	}
	b.ReportMetric(float64(size), "bytes/frame")
}

func BenchmarkEncodeFull1080Lossless(b *testing.B) {
	cur := desktop(1920, 1080, 6, image.Rect(1200, 500, 1800, 1000))
	e := NewEncoder()
	e.NoJPEG = true
	size := 0
	for b.Loop() {
		e.Refresh()
		p, _ := e.Encode(cur)
		size = len(p)
	}
	b.ReportMetric(float64(size), "bytes/frame")
}

// A 200×50 area of text changing every frame (typing, a clock).
func BenchmarkEncodeSmallChange1080(b *testing.B) {
	frames := []*image.RGBA{desktop(1920, 1080, 7, image.Rectangle{}), desktop(1920, 1080, 7, image.Rectangle{})}
	text(frames[1], image.Rect(500, 500, 700, 550), rand.New(rand.NewPCG(1, 2)))
	e := NewEncoder()
	e.Encode(frames[0])
	size, i := 0, 0
	for b.Loop() {
		i++
		p, _ := e.Encode(frames[i%2])
		size = len(p)
	}
	b.ReportMetric(float64(size), "bytes/frame")
}

func BenchmarkEncodeStatic1080(b *testing.B) {
	cur := desktop(1920, 1080, 8, image.Rectangle{})
	e := NewEncoder()
	e.Encode(cur)
	for b.Loop() {
		e.Encode(cur)
	}
}

func BenchmarkDecodeFull1080(b *testing.B) {
	cur := desktop(1920, 1080, 6, image.Rect(1200, 500, 1800, 1000))
	p, _ := NewEncoder().Encode(cur)
	d := &Decoder{}
	var dst *image.RGBA
	for b.Loop() {
		dst, _, _ = d.Apply(dst, p)
	}
}

// The same small change sent Raw (as if the station's tiles were not
// exact): what Delta saves.
func BenchmarkEncodeSmallChange1080Raw(b *testing.B) {
	frames := []*image.RGBA{desktop(1920, 1080, 7, image.Rectangle{}), desktop(1920, 1080, 7, image.Rectangle{})}
	text(frames[1], image.Rect(500, 500, 700, 550), rand.New(rand.NewPCG(1, 2)))
	e := NewEncoder()
	e.Encode(frames[0])
	size, i := 0, 0
	for b.Loop() {
		i++
		clear(e.exact)
		p, _ := e.Encode(frames[i%2])
		size = len(p)
	}
	b.ReportMetric(float64(size), "bytes/frame")
}

// The alternatives measured for a changed 200×50 text area and for the
// photo-like area: PNG (lossless, stdlib) and JPEG on text.
func BenchmarkAlternatives(b *testing.B) {
	textImg := desktop(1920, 1080, 7, image.Rectangle{})
	text(textImg, image.Rect(500, 500, 700, 550), rand.New(rand.NewPCG(1, 2)))
	photo := image.Rect(1200, 500, 1800, 1000)
	photoImg := desktop(1920, 1080, 6, photo)
	for _, c := range []struct {
		name string
		img  *image.RGBA
		r    image.Rectangle
		enc  func(io.Writer, image.Image) error
	}{
		{"text200x50/png", textImg, image.Rect(500, 500, 700, 550), pngFast},
		{"text200x50/jpeg70", textImg, image.Rect(500, 500, 700, 550), jpeg70},
		{"photo600x500/png", photoImg, photo, pngFast},
		{"photo600x500/jpeg70", photoImg, photo, jpeg70},
	} {
		b.Run(c.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := c.enc(&buf, c.img.SubImage(c.r)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes")
		})
	}
}

func pngFast(w io.Writer, img image.Image) error {
	return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, img)
}

func jpeg70(w io.Writer, img image.Image) error {
	return jpeg.Encode(w, img, &jpeg.Options{Quality: 70})
}

// A hostile PC could make one small frame paint the whole image many
// times over (65,535 solid regions of 16 bytes, each the full image: hours
// of CPU for the station). The Encoder's regions never overlap, so the
// Decoder refuses regions covering more than the image's area.
func TestDecoderRefusesOverlappingRegions(t *testing.T) {
	const w, h = 64, 32
	p := make([]byte, headerSize)
	p[0], p[1] = Version, FlagFull
	binary.BigEndian.PutUint16(p[6:], w)
	binary.BigEndian.PutUint16(p[8:], h)
	binary.BigEndian.PutUint16(p[10:], 2)
	for range 2 { // the whole image, twice
		p = binary.BigEndian.AppendUint16(p, 0)
		p = binary.BigEndian.AppendUint16(p, 0)
		p = binary.BigEndian.AppendUint16(p, w)
		p = binary.BigEndian.AppendUint16(p, h)
		p = append(p, Solid)
		p = binary.BigEndian.AppendUint32(p, 3)
		p = append(p, 1, 2, 3)
	}
	if _, _, err := (&Decoder{}).Apply(nil, p); !errors.Is(err, ErrFrame) {
		t.Fatalf("two regions covering the image twice were applied (%v)", err)
	}
	binary.BigEndian.PutUint16(p[10:], 1) // one is fine, the rest then trails
	if _, _, err := (&Decoder{}).Apply(nil, p[:len(p)-16]); err != nil {
		t.Fatalf("one region covering the image was refused: %v", err)
	}
}

// A full frame and a frame whose regions repaint the whole image without
// Delta are standalone; a frame of small changes is not.
func TestStandalone(t *testing.T) {
	e := NewEncoder()
	e.NoJPEG = true
	img := desktop(320, 200, 1, image.Rectangle{})
	full, _ := e.Encode(img)
	if !Standalone(full) {
		t.Fatal("the first, full frame is not standalone")
	}
	fill(img, image.Rect(10, 10, 20, 20), color.RGBA{1, 2, 3, 255})
	small, _ := e.Encode(img)
	if Standalone(small) {
		t.Fatal("a frame of a small change is standalone")
	}
	e.NoJPEG = false
	photo := desktop(320, 200, 2, image.Rect(0, 0, 320, 200))
	whole, _ := e.Encode(photo)
	if w, h := Size(whole); w != 320 || h != 200 || !Standalone(whole) {
		t.Fatalf("a frame repainting everything as JPEG: size %d×%d, standalone %v", w, h, Standalone(whole))
	}
}
