package core

import (
	"errors"
	"image"
)

// frameDecoder is a placeholder until core/wire/frame lands.
type frameDecoder struct{}

func (d *frameDecoder) decode(b []byte, img *image.RGBA) (*image.RGBA, uint32, []image.Rectangle, error) {
	return img, 0, nil, errors.New("no frame decoder yet")
}
