package frame

import (
	"image"
	"image/color"
	"testing"
)

// FuzzDecode feeds the Decoder what the network could bring: it must
// refuse with ErrFrame or apply, never panic, and stay inside its bounds.
func FuzzDecode(f *testing.F) {
	img := desktop(160, 96, 11, image.Rect(64, 0, 160, 64))
	e := NewEncoder()
	full, _ := e.Encode(img)
	f.Add(full)
	fill(img, image.Rect(3, 3, 20, 9), color.RGBA{9, 9, 9, 255})
	part, _ := e.Encode(img)
	f.Add(part)
	e.NoJPEG = true
	e.Refresh()
	lossless, _ := e.Encode(img)
	f.Add(lossless)
	f.Fuzz(func(t *testing.T, p []byte) {
		d := &Decoder{MaxPixels: 512 * 512}
		dst := image.NewRGBA(image.Rect(0, 0, 160, 96))
		out, info, err := d.Apply(dst, p)
		if err != nil {
			return
		}
		if out.Bounds().Dx()*out.Bounds().Dy() > 512*512 {
			t.Fatalf("decoded %v past MaxPixels", out.Bounds())
		}
		for _, r := range info.Regions {
			if !r.In(out.Bounds()) {
				t.Fatalf("region %v outside %v", r, out.Bounds())
			}
		}
	})
}
