package frame

import "encoding/binary"

// Standalone reports whether payload paints every pixel of its image
// without reading the pixels shown before it: a full frame, or one whose
// regions cover the whole image with no Delta among them (full-screen
// video). A recording may start playback from such a frame. A malformed
// payload is not standalone.
func Standalone(payload []byte) bool {
	if len(payload) < headerSize || payload[0] != Version {
		return false
	}
	if payload[1]&FlagFull != 0 {
		return true
	}
	w := int(binary.BigEndian.Uint16(payload[6:]))
	h := int(binary.BigEndian.Uint16(payload[8:]))
	count := int(binary.BigEndian.Uint16(payload[10:]))
	p := payload[headerSize:]
	area := 0
	for range count {
		if len(p) < regionHead {
			return false
		}
		rw, rh := int(binary.BigEndian.Uint16(p[4:])), int(binary.BigEndian.Uint16(p[6:]))
		if p[8] == Delta {
			return false
		}
		n := binary.BigEndian.Uint32(p[9:])
		if uint64(n) > uint64(len(p)-regionHead) {
			return false
		}
		area += rw * rh
		p = p[regionHead+int(n):]
	}
	// The decoder refuses overlapping regions, so covering the area is
	// covering the image.
	return w > 0 && h > 0 && area == w*h
}

// Size is the image size a payload is for (0, 0 when malformed).
func Size(payload []byte) (w, h int) {
	if len(payload) < headerSize {
		return 0, 0
	}
	return int(binary.BigEndian.Uint16(payload[6:])), int(binary.BigEndian.Uint16(payload[8:]))
}
