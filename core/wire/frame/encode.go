package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// TileSize is the side of the square tiles compared between frames.
const TileSize = 64

// DefaultQuality is the JPEG quality an Encoder starts with.
const DefaultQuality = 70

// photoColours is how many distinct colours among a tile's 256 sampled
// pixels make it photo-like: text, windows and icons on flat backgrounds
// stay far below (antialiasing adds a few dozen), photos and gradients
// reach nearly every sample.
const photoColours = 96

var errBadSize = errors.New("the captured image is empty or larger than a frame can carry")

// Encoder turns successive captures of one screen into frame payloads. It
// keeps its own copy of what it last sent, so a capture that was never
// sent (the ack window was full) does not break the next frame.
type Encoder struct {
	// Quality is the JPEG quality (1..100) for photo-like regions; the
	// caller lowers it when the link is slow.
	Quality int
	// NoJPEG sends every region losslessly.
	NoJPEG bool

	// RefineAfter is how many captures a JPEG tile must stay unchanged
	// before it is sent again losslessly, so still text over a photo-like
	// background ends up sharp (0: never).
	RefineAfter int

	ref     *image.RGBA // the pixels last sent
	exact   []bool      // per tile: the station holds ref's pixels exactly
	still   []uint16    // per tile: captures since it changed
	tilesX  int
	seq     uint32
	full    bool
	scratch []region
}

// Stats describes the last encoded frame (for tests and benchmarks).
type Stats struct {
	Regions [4]int // Solid, Raw, Delta, JPEG
}

type region struct {
	r     image.Rectangle
	codec byte
	data  []byte
}

// NewEncoder returns an Encoder whose first frame is full.
func NewEncoder() *Encoder { return &Encoder{Quality: DefaultQuality, RefineAfter: DefaultRefineAfter} }

// DefaultRefineAfter is RefineAfter of a new Encoder: half a second at
// the idle capture rate of 10 a second.
const DefaultRefineAfter = 5

// refinePerFrame bounds the tiles one frame refines: 16 tiles, at most
// 192 KB of RGB before compression, so a change that follows is not held
// up long behind them.
const refinePerFrame = 16

// Refresh makes the next frame cover the whole image (the station asked
// for it, or the monitor changed).
func (e *Encoder) Refresh() { e.full = true }

// Seq is the sequence number of the last frame returned.
func (e *Encoder) Seq() uint32 { return e.seq }

// Encode compares cur with what was last sent and returns the payload of
// a frame holding the changed regions, or nil when nothing changed. cur
// is read only; it may be reused for the next capture.
func (e *Encoder) Encode(cur *image.RGBA) ([]byte, error) {
	b := cur.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 || w > MaxSide || h > MaxSide {
		return nil, errBadSize
	}
	full := e.full || e.ref == nil || e.ref.Bounds().Size() != b.Size()
	if full && (e.ref == nil || e.ref.Bounds().Size() != b.Size()) {
		e.ref = image.NewRGBA(image.Rect(0, 0, w, h))
		e.tilesX = (w + TileSize - 1) / TileSize
		e.exact = make([]bool, e.tilesX*((h+TileSize-1)/TileSize))
		e.still = make([]uint16, len(e.exact))
	}
	if full {
		clear(e.exact)
	}
	regs := e.scratch[:0]
	// Refinement is spread over frames (a still photo is hundreds of KB
	// losslessly) and waits while the link is slow (quality lowered).
	refine := 0
	if e.RefineAfter > 0 && e.Quality >= DefaultQuality {
		refine = refinePerFrame
	}
	for ty := 0; ty*TileSize < h; ty++ {
		run := -1 // the region the previous tile joined, while it can grow
		for tx := 0; tx*TileSize < w; tx++ {
			t := image.Rect(tx*TileSize, ty*TileSize, min((tx+1)*TileSize, w), min((ty+1)*TileSize, h))
			i := ty*e.tilesX + tx
			var codec byte
			switch {
			case full || !sameTile(cur, e.ref, b.Min, t):
				e.still[i] = 0
				codec = e.classify(cur, b.Min, t, e.exact[i])
			case !e.exact[i] && refine > 0 && int(e.still[i]) >= e.RefineAfter:
				// Sent as JPEG and still since: now exactly.
				codec = Raw
				refine--
			default:
				if !e.exact[i] && e.still[i] < 0xffff {
					e.still[i]++
				}
				run = -1
				continue
			}
			if run >= 0 && codec != Solid && regs[run].codec == codec {
				regs[run].r.Max.X = t.Max.X
				continue
			}
			regs = append(regs, region{r: t, codec: codec})
			run = len(regs) - 1
		}
	}
	e.scratch = regs
	if len(regs) == 0 && !full {
		return nil, nil
	}
	e.encodeAll(cur, b.Min, regs)
	for _, rg := range regs {
		copyRect(e.ref, cur, b.Min, rg.r)
		for ty := rg.r.Min.Y / TileSize; ty*TileSize < rg.r.Max.Y; ty++ {
			for tx := rg.r.Min.X / TileSize; tx*TileSize < rg.r.Max.X; tx++ {
				e.exact[ty*e.tilesX+tx] = rg.codec != JPEG
			}
		}
	}
	e.full = false
	e.seq++
	size := headerSize
	for _, rg := range regs {
		size += regionHead + len(rg.data)
	}
	out := make([]byte, headerSize, size)
	out[0] = Version
	if full {
		out[1] = FlagFull
	}
	binary.BigEndian.PutUint32(out[2:], e.seq)
	binary.BigEndian.PutUint16(out[6:], uint16(w))
	binary.BigEndian.PutUint16(out[8:], uint16(h))
	binary.BigEndian.PutUint16(out[10:], uint16(len(regs)))
	for _, rg := range regs {
		out = binary.BigEndian.AppendUint16(out, uint16(rg.r.Min.X))
		out = binary.BigEndian.AppendUint16(out, uint16(rg.r.Min.Y))
		out = binary.BigEndian.AppendUint16(out, uint16(rg.r.Dx()))
		out = binary.BigEndian.AppendUint16(out, uint16(rg.r.Dy()))
		out = append(out, rg.codec)
		out = binary.BigEndian.AppendUint32(out, uint32(len(rg.data)))
		out = append(out, rg.data...)
	}
	return out, nil
}

// LastStats counts the codecs of the last frame's regions.
func (e *Encoder) LastStats() Stats {
	var s Stats
	for _, rg := range e.scratch {
		switch rg.codec {
		case Solid:
			s.Regions[0]++
		case Raw:
			s.Regions[1]++
		case Delta:
			s.Regions[2]++
		case JPEG:
			s.Regions[3]++
		}
	}
	return s
}

// sameTile compares tile t of cur (offset by origin) with ref, row by row.
func sameTile(cur, ref *image.RGBA, origin image.Point, t image.Rectangle) bool {
	for y := t.Min.Y; y < t.Max.Y; y++ {
		c := cur.PixOffset(origin.X+t.Min.X, origin.Y+y)
		r := ref.PixOffset(t.Min.X, y)
		n := t.Dx() * 4
		if !bytes.Equal(cur.Pix[c:c+n], ref.Pix[r:r+n]) {
			return false
		}
	}
	return true
}

func copyRect(ref, cur *image.RGBA, origin image.Point, r image.Rectangle) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		c := cur.PixOffset(origin.X+r.Min.X, origin.Y+y)
		d := ref.PixOffset(r.Min.X, y)
		copy(ref.Pix[d:d+r.Dx()*4], cur.Pix[c:c+r.Dx()*4])
	}
}

// classify picks a tile's codec from a 16×16 sample of its pixels.
func (e *Encoder) classify(cur *image.RGBA, origin image.Point, t image.Rectangle, exact bool) byte {
	var sample [256]uint32
	n := 0
	stepX, stepY := max(t.Dx()/16, 1), max(t.Dy()/16, 1)
	for y := t.Min.Y; y < t.Max.Y && n < len(sample); y += stepY {
		for x := t.Min.X; x < t.Max.X && n < len(sample); x += stepX {
			o := cur.PixOffset(origin.X+x, origin.Y+y)
			sample[n] = uint32(cur.Pix[o])<<16 | uint32(cur.Pix[o+1])<<8 | uint32(cur.Pix[o+2])
			n++
		}
	}
	distinct := countDistinct(sample[:n])
	switch {
	case distinct == 1 && isSolid(cur, origin, t):
		return Solid
	case !e.NoJPEG && distinct >= photoColours && t.Dx() >= 8 && t.Dy() >= 8:
		return JPEG
	case exact:
		return Delta
	}
	return Raw
}

func countDistinct(s []uint32) int {
	// A tiny open-addressing set: 256 samples, 512 slots.
	var set [512]uint32
	var used [512]bool
	n := 0
	for _, v := range s {
		i := (v * 2654435761) >> 23
		for used[i] && set[i] != v {
			i = (i + 1) & 511
		}
		if !used[i] {
			used[i], set[i] = true, v
			n++
		}
	}
	return n
}

func isSolid(cur *image.RGBA, origin image.Point, t image.Rectangle) bool {
	o := cur.PixOffset(origin.X+t.Min.X, origin.Y+t.Min.Y)
	p0 := cur.Pix[o : o+3]
	for y := t.Min.Y; y < t.Max.Y; y++ {
		row := cur.Pix[cur.PixOffset(origin.X+t.Min.X, origin.Y+y):]
		for x := 0; x < t.Dx()*4; x += 4 {
			if row[x] != p0[0] || row[x+1] != p0[1] || row[x+2] != p0[2] {
				return false
			}
		}
	}
	return true
}

// encodeAll compresses the regions in parallel: a full-screen change is
// hundreds of tiles, and JPEG alone takes ~30 ms a 1080p frame on one core.
func (e *Encoder) encodeAll(cur *image.RGBA, origin image.Point, regs []region) {
	workers := min(runtime.GOMAXPROCS(0), len(regs))
	if workers <= 1 {
		for i := range regs {
			e.encodeRegion(cur, origin, &regs[i])
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(regs) {
					return
				}
				e.encodeRegion(cur, origin, &regs[i])
			}
		})
	}
	wg.Wait()
}

func (e *Encoder) encodeRegion(cur *image.RGBA, origin image.Point, rg *region) {
	r := rg.r
	switch rg.codec {
	case Solid:
		o := cur.PixOffset(origin.X+r.Min.X, origin.Y+r.Min.Y)
		rg.data = append(rg.data[:0], cur.Pix[o:o+3]...)
	case JPEG:
		var buf bytes.Buffer
		q := min(max(e.Quality, 1), 100)
		sub := cur.SubImage(r.Add(origin))
		if err := jpeg.Encode(&buf, sub, &jpeg.Options{Quality: q}); err != nil {
			// Cannot happen for an in-memory RGBA; send it losslessly.
			rg.codec = Raw
			e.encodeRegion(cur, origin, rg)
			return
		}
		rg.data = buf.Bytes()
	case Raw, Delta:
		rgb := make([]byte, 0, r.Dx()*r.Dy()*3)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := cur.Pix[cur.PixOffset(origin.X+r.Min.X, origin.Y+y):]
			var old []byte
			if rg.codec == Delta {
				old = e.ref.Pix[e.ref.PixOffset(r.Min.X, y):]
			}
			for x := 0; x < r.Dx()*4; x += 4 {
				if old != nil {
					rgb = append(rgb, row[x]^old[x], row[x+1]^old[x+1], row[x+2]^old[x+2])
				} else {
					rgb = append(rgb, row[x], row[x+1], row[x+2])
				}
			}
		}
		rg.data = zenc().EncodeAll(rgb, rg.data[:0])
	}
}

var zencOnce = sync.OnceValue(func() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithEncoderCRC(false),
		zstd.WithWindowSize(1<<20))
	if err != nil {
		panic(err) // only for invalid options, which are constant here
	}
	return enc
})

func zenc() *zstd.Encoder { return zencOnce() }
