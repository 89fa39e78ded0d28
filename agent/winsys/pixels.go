package winsys

import "encoding/binary"

// bgrxToRGBA converts a GDI DIB section's rows (blue, green, red, unused)
// to image.RGBA's order and makes every pixel opaque: GDI leaves the fourth
// byte undefined. A pixel at a time as one 32-bit word (the loads and
// stores compile to single instructions). No Windows calls, so it is
// tested on Linux.
func bgrxToRGBA(dst, src []byte) {
	n := min(len(dst), len(src)) &^ 3
	dst, src = dst[:n], src[:n]
	for i := 0; i < n; i += 4 {
		v := binary.LittleEndian.Uint32(src[i:])
		binary.LittleEndian.PutUint32(dst[i:], v>>16&0xFF|v&0xFF00|(v&0xFF)<<16|0xFF000000)
	}
}
