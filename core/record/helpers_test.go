package record

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	crand "crypto/rand"
	"image"
	"image/color"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"adhocstation/core/wire/frame"
)

// gcmSealer is a station key of its own: AES-GCM as core's sealWith.
type gcmSealer struct{ aead cipher.AEAD }

func newSealer(t testing.TB) gcmSealer {
	key := make([]byte, 32)
	_, _ = crand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return gcmSealer{aead}
}

func (g gcmSealer) Seal(p, aad []byte) ([]byte, error) {
	n := make([]byte, g.aead.NonceSize())
	_, _ = crand.Read(n)
	return g.aead.Seal(n, n, p, aad), nil
}

func (g gcmSealer) Open(s, aad []byte) ([]byte, error) {
	ns := g.aead.NonceSize()
	return g.aead.Open(nil, s[:ns], s[ns:], aad)
}

// clock is a manual clock for record times.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// desk is a synthetic desktop: flat windows, a text area that gets typed
// into, and a photo-like area for video.
type desk struct {
	img  *image.RGBA
	rnd  *rand.Rand
	col  int // the typing cursor
	line int
}

func newDesk(w, h int) *desk {
	d := &desk{img: image.NewRGBA(image.Rect(0, 0, w, h)), rnd: rand.New(rand.NewPCG(1, 2))}
	fill(d.img, d.img.Rect, color.RGBA{0, 90, 160, 255})
	fill(d.img, image.Rect(w/8, h/8, w*7/8, h*7/8), color.RGBA{250, 250, 250, 255})
	fill(d.img, image.Rect(w/8, h/8, w*7/8, h/8+24), color.RGBA{60, 60, 70, 255})
	return d
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// typeChar draws one 8×14 glyph-like block of dark pixels at the cursor.
func (d *desk) typeChar() {
	b := d.img.Rect
	x0, y0 := b.Dx()/8+8+d.col*9, b.Dy()/8+32+d.line*18
	for y := range 14 {
		for x := range 8 {
			if d.rnd.IntN(3) == 0 {
				d.img.SetRGBA(x0+x, y0+y, color.RGBA{20, 20, 20, 255})
			}
		}
	}
	d.col++
	if x0+20 > b.Dx()*7/8 {
		d.col, d.line = 0, d.line+1
		if y0+40 > b.Dy()*7/8 {
			d.line = 0
			fill(d.img, image.Rect(b.Dx()/8, b.Dy()/8+24, b.Dx()*7/8, b.Dy()*7/8), color.RGBA{250, 250, 250, 255})
		}
	}
}

// video paints the whole screen with a moving gradient and noise, as a
// film does.
func (d *desk) video(n int) {
	b := d.img.Rect
	for y := range b.Dy() {
		for x := range b.Dx() {
			v := uint8((x + y + n*7) & 0xff)
			d.img.SetRGBA(x, y, color.RGBA{v, uint8((x*3 + n) & 0xff), uint8(y&0xff) ^ uint8(d.rnd.IntN(16)), 255})
		}
	}
}

// station is the station's end of a synthetic session: it decodes the
// encoder's frames as the live view does and records them.
type station struct {
	enc   *frame.Encoder
	dec   frame.Decoder
	shown *image.RGBA
	rec   *Recorder
	clock *clock
	// inRec is the time the screen's reader spent in the recorder.
	inRec time.Duration
}

// send encodes d's picture, "receives" it and records it; it returns the
// payload's size (0: nothing changed, nothing sent).
func (s *station) send(t testing.TB, d *desk) int {
	p, err := s.enc.Encode(d.img)
	if err != nil {
		t.Fatal(err)
	}
	if p == nil {
		return 0
	}
	img, _, err := s.dec.Apply(s.shown, p)
	if err != nil {
		t.Fatal(err)
	}
	s.shown = img
	if s.rec != nil {
		t0 := time.Now()
		s.rec.Frame(p, img)
		s.inRec += time.Since(t0)
	}
	return len(p)
}

func clone(img *image.RGBA) *image.RGBA {
	if img == nil {
		return nil
	}
	c := *img
	c.Pix = bytes.Clone(img.Pix)
	return &c
}

// startRecording starts a Recorder into a new file in t's temp folder.
func startRecording(t testing.TB, s Sealer, c *clock, opt Options) (*Recorder, string, chan Summary) {
	path := filepath.Join(t.TempDir(), "session-1"+Ext)
	w, err := Create(path, s, Meta{SessionID: 1, Computer: "DESKTOP-7QK2", Technician: "Tom", Started: c.Now()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan Summary, 1)
	opt.Now = c.Now
	opt.OnDone = func(s Summary, complete bool) {
		if !complete {
			t.Errorf("the recording was not complete")
		}
		done <- s
	}
	return Start(w, path, opt), path, done
}

// waitLimit bounds waiting for the recorder's goroutine (as coretest's,
// which this package cannot import: core imports it).
const waitLimit = 10 * time.Second

func receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("waited %v for %s", waitLimit, what)
	}
	var zero T
	return zero
}

func await[T any](t testing.TB, ch <-chan T, what string) {
	t.Helper()
	receive(t, ch, what)
}
