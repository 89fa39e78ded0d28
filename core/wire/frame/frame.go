// Package frame encodes the remote screen's frames: the regions of the
// PC's captured desktop that changed since the last frame sent, each
// compressed the way that suits it, and decodes them on the station onto
// the image it shows.
//
// A frame payload (the body of a wire.ScreenFrame message), all numbers
// big-endian:
//
//	version  1 byte  (Version)
//	flags    1 byte  (FlagFull: every pixel of the image is covered)
//	seq      4 bytes (the number the station acks)
//	width    2 bytes (the whole captured image)
//	height   2 bytes
//	count    2 bytes (regions that follow)
//	count × region:
//	    x, y, w, h  2 bytes each (inside width × height)
//	    codec       1 byte  (Solid, Raw, Delta, JPEG)
//	    length      4 bytes
//	    data        length bytes
//
// Codecs: Solid is one RGB colour for the whole region; Raw is the
// region's pixels as RGB rows compressed with zstd; Delta is the same
// rows XORed with the pixels the station already shows there (exact,
// because the region was last sent losslessly) and compressed with zstd,
// mostly zeros when a few characters changed; JPEG is a baseline JPEG of
// the region, for photo-like content where zstd does poorly.
package frame

import (
	"errors"
	"image"
)

// Version is the payload format's version byte.
const Version = 1

// FlagFull marks a frame that covers the whole image (the first frame, a
// refresh, a size change): the station can start from it.
const FlagFull = 1

// Codecs of a region.
const (
	Solid byte = 'S'
	Raw   byte = 'Z'
	Delta byte = 'X'
	JPEG  byte = 'J'
)

const (
	headerSize = 12
	regionHead = 13
)

// MaxSide bounds a frame's width and height (the 2-byte fields allow more).
const MaxSide = 16384

// DefaultMaxPixels bounds the image a Decoder builds (two 8K monitors side
// by side fit): a frame from the network cannot make it allocate more.
const DefaultMaxPixels = 2 * 7680 * 4320

// ErrFrame is wrapped by every error about a malformed payload.
var ErrFrame = errors.New("malformed screen frame")

// Info is what a decoded frame says about itself.
type Info struct {
	Seq     uint32
	Full    bool
	Regions []image.Rectangle // the pixels the frame changed
}
