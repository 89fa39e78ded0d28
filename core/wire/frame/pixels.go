package frame

import "unsafe"

// BGRXToRGBA converts captured 32-bit pixels in blue, green, red, unused
// order (a Windows DIB section, an X11 ZPixmap on a little-endian host) to
// image.RGBA's order, every pixel opaque: both sources leave the fourth
// byte undefined. It works on 32-bit word views of both buffers (a byte at
// a time, or word loads through encoding/binary, took 1.5–2 times as
// long); the views read the host's byte order, little-endian like every
// CPU the agent and the station are built for.
func BGRXToRGBA(dst, src []byte) {
	n := min(len(dst), len(src)) / 4
	if n == 0 {
		return
	}
	o := unsafe.Slice((*uint32)(unsafe.Pointer(&dst[0])), n)
	in := unsafe.Slice((*uint32)(unsafe.Pointer(&src[0])), n)
	for i, v := range in {
		o[i] = v>>16&0xff | v&0xff00 | (v&0xff)<<16 | 0xff000000
	}
}
