package frame

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Decoder applies frame payloads that come from the network: every size
// and offset is checked before use, and what it allocates is bounded by
// MaxPixels.
type Decoder struct {
	// MaxPixels bounds the image's width × height; 0 means
	// DefaultMaxPixels.
	MaxPixels int
	rgb       []byte
}

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFrame, fmt.Sprintf(format, args...))
}

// Apply decodes payload onto dst and returns the image (dst, or a new one
// when a full frame brings another size) and what the frame changed. A
// frame that is not full must match dst's size. On an error dst may hold
// part of the frame: ask the PC for a full one (wire.ScreenControl
// Refresh).
func (d *Decoder) Apply(dst *image.RGBA, payload []byte) (*image.RGBA, Info, error) {
	var info Info
	if len(payload) < headerSize {
		return dst, info, bad("%d bytes is shorter than the header", len(payload))
	}
	if payload[0] != Version {
		return dst, info, bad("version %d, this station reads %d", payload[0], Version)
	}
	info.Full = payload[1]&FlagFull != 0
	info.Seq = binary.BigEndian.Uint32(payload[2:])
	w := int(binary.BigEndian.Uint16(payload[6:]))
	h := int(binary.BigEndian.Uint16(payload[8:]))
	count := int(binary.BigEndian.Uint16(payload[10:]))
	maxPixels := d.MaxPixels
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if w == 0 || h == 0 || w > MaxSide || h > MaxSide || w*h > maxPixels {
		return dst, info, bad("image size %d×%d", w, h)
	}
	if dst == nil || dst.Bounds() != image.Rect(0, 0, w, h) {
		if !info.Full {
			return dst, info, bad("a partial frame of %d×%d for an image of another size", w, h)
		}
		dst = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	if count > (len(payload)-headerSize)/regionHead {
		return dst, info, bad("%d regions in %d bytes", count, len(payload))
	}
	info.Regions = make([]image.Rectangle, 0, count)
	p := payload[headerSize:]
	// The Encoder's regions never overlap: more than the image's area is
	// a frame made to keep the station painting.
	area := w * h
	for i := range count {
		if len(p) < regionHead {
			return dst, info, bad("region %d is cut short", i)
		}
		x, y := int(binary.BigEndian.Uint16(p)), int(binary.BigEndian.Uint16(p[2:]))
		rw, rh := int(binary.BigEndian.Uint16(p[4:])), int(binary.BigEndian.Uint16(p[6:]))
		codec := p[8]
		n := binary.BigEndian.Uint32(p[9:])
		p = p[regionHead:]
		if uint64(n) > uint64(len(p)) {
			return dst, info, bad("region %d says %d bytes, %d are left", i, n, len(p))
		}
		data := p[:n]
		p = p[n:]
		r := image.Rect(x, y, x+rw, y+rh)
		if rw == 0 || rh == 0 || !r.In(dst.Bounds()) {
			return dst, info, bad("region %d (%v) is outside the %d×%d image", i, r, w, h)
		}
		if area -= rw * rh; area < 0 {
			return dst, info, bad("region %d makes the regions cover more than the %d×%d image", i, w, h)
		}
		if err := d.region(dst, r, codec, data); err != nil {
			return dst, info, fmt.Errorf("%w (region %d, %v)", err, i, r)
		}
		info.Regions = append(info.Regions, r)
	}
	if len(p) != 0 {
		return dst, info, bad("%d bytes after the last region", len(p))
	}
	return dst, info, nil
}

func (d *Decoder) region(dst *image.RGBA, r image.Rectangle, codec byte, data []byte) error {
	switch codec {
	case Solid:
		if len(data) != 3 {
			return bad("a solid colour of %d bytes", len(data))
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := dst.Pix[dst.PixOffset(r.Min.X, y):]
			for x := 0; x < r.Dx()*4; x += 4 {
				row[x], row[x+1], row[x+2], row[x+3] = data[0], data[1], data[2], 0xff
			}
		}
	case Raw, Delta:
		want := r.Dx() * r.Dy() * 3
		if want > maxLossless {
			return bad("a lossless region of %d pixels (at most %d)", r.Dx()*r.Dy(), maxLossless/3)
		}
		var hdr zstd.Header
		if err := hdr.Decode(data); err != nil {
			return bad("zstd header: %v", err)
		}
		if !hdr.HasFCS || hdr.FrameContentSize != uint64(want) {
			return bad("zstd data of %d bytes for %d pixels", hdr.FrameContentSize, r.Dx()*r.Dy())
		}
		out, err := zdec().DecodeAll(data, d.rgb[:0])
		if err != nil {
			return bad("zstd: %v", err)
		}
		d.rgb = out[:0]
		if len(out) != want {
			return bad("zstd data of %d bytes for %d pixels", len(out), r.Dx()*r.Dy())
		}
		i := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := dst.Pix[dst.PixOffset(r.Min.X, y):]
			for x := 0; x < r.Dx()*4; x += 4 {
				if codec == Delta {
					row[x] ^= out[i]
					row[x+1] ^= out[i+1]
					row[x+2] ^= out[i+2]
				} else {
					row[x], row[x+1], row[x+2] = out[i], out[i+1], out[i+2]
				}
				row[x+3] = 0xff
				i += 3
			}
		}
	case JPEG:
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return bad("jpeg: %v", err)
		}
		if cfg.Width != r.Dx() || cfg.Height != r.Dy() {
			return bad("a %d×%d jpeg for the region", cfg.Width, cfg.Height)
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return bad("jpeg: %v", err)
		}
		if img.Bounds().Size() != r.Size() {
			return bad("a %v jpeg for the region", img.Bounds().Size())
		}
		drawInto(dst, r, img)
	default:
		return bad("unknown codec %q", codec)
	}
	return nil
}

// drawInto copies a decoded JPEG (YCbCr or Gray) into dst at r.
func drawInto(dst *image.RGBA, r image.Rectangle, img image.Image) {
	b := img.Bounds()
	switch src := img.(type) {
	case *image.YCbCr:
		for y := 0; y < r.Dy(); y++ {
			row := dst.Pix[dst.PixOffset(r.Min.X, r.Min.Y+y):]
			for x := 0; x < r.Dx(); x++ {
				yi := src.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := src.COffset(b.Min.X+x, b.Min.Y+y)
				cr, cg, cb := color.YCbCrToRGB(src.Y[yi], src.Cb[ci], src.Cr[ci])
				row[x*4], row[x*4+1], row[x*4+2], row[x*4+3] = cr, cg, cb, 0xff
			}
		}
	default:
		for y := 0; y < r.Dy(); y++ {
			for x := 0; x < r.Dx(); x++ {
				cr, cg, cb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				o := dst.PixOffset(r.Min.X+x, r.Min.Y+y)
				dst.Pix[o], dst.Pix[o+1], dst.Pix[o+2], dst.Pix[o+3] = uint8(cr>>8), uint8(cg>>8), uint8(cb>>8), 0xff
			}
		}
	}
}

// maxLossless bounds a Raw or Delta region's RGB bytes: the Encoder sends
// at most one row of tiles across the widest image.
const maxLossless = MaxSide * TileSize * 3

var zdecOnce = sync.OnceValue(func() *zstd.Decoder {
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(maxLossless),
		zstd.IgnoreChecksum(true))
	if err != nil {
		panic(err) // only for invalid options, which are constant here
	}
	return dec
})

func zdec() *zstd.Decoder { return zdecOnce() }
