package record

import (
	"errors"
	"fmt"
	"image"
	"io"
	"sort"
	"time"

	"adhocstation/core/wire/frame"
)

// Player rebuilds the screen of a recording at any time: it decodes from
// the nearest keyframe at or before that time, then the frames after it.
type Player struct {
	f    *File
	dec  frame.Decoder
	img  *image.RGBA
	at   time.Duration // the time the picture is of
	next int64         // the record after the last one applied; 0 before any
}

// NewPlayer plays f.
func NewPlayer(f *File) *Player { return &Player{f: f} }

// Image is the picture at the time of the last Seek or Advance, nil
// before the first frame.
func (p *Player) Image() *image.RGBA { return p.img }

// Seek makes the picture that of time t: from the nearest keyframe, or
// onward from the current picture when no keyframe lies between.
func (p *Player) Seek(t time.Duration) (*image.RGBA, error) {
	keys := p.f.Index.Keys
	i := sort.Search(len(keys), func(i int) bool { return keys[i].T > t }) - 1
	switch {
	case i < 0:
		// Before the first picture.
		p.img, p.at, p.next = nil, t, 0
		return nil, nil
	case p.next != 0 && t >= p.at && keys[i].Off < p.next:
		// The keyframe is behind the picture already shown: go on from it.
	default:
		p.img, p.next = nil, keys[i].Off
	}
	err := p.advance(t)
	return p.img, err
}

// Advance applies the frames up to time t (playing forward).
func (p *Player) Advance(t time.Duration) error {
	if t < p.at {
		_, err := p.Seek(t)
		return err
	}
	return p.advance(t)
}

func (p *Player) advance(t time.Duration) error {
	if p.next == 0 {
		if len(p.f.Index.Keys) == 0 || p.f.Index.Keys[0].T > t {
			p.at = t
			return nil
		}
		p.next = p.f.Index.Keys[0].Off
	}
	for {
		rec, err := p.f.ReadAt(p.next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if rec.T > t || rec.Type == TypeIndex {
			break
		}
		if rec.Type == TypeFrame || rec.Type == TypeKey {
			if w, h := frame.Size(rec.Payload); p.img == nil && w > 0 && h > 0 && w*h <= frame.DefaultMaxPixels {
				// A standalone frame that is not flagged full paints
				// every pixel, but the decoder wants an image of its size.
				p.img = image.NewRGBA(image.Rect(0, 0, w, h))
			}
			img, _, err := p.dec.Apply(p.img, rec.Payload)
			if err != nil {
				return fmt.Errorf("%w: the frame at byte %d does not decode: %v", ErrTampered, rec.Off, err)
			}
			p.img = img
		}
		p.next = rec.Next
	}
	p.at = t
	return nil
}
