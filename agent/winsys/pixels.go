package winsys

// bgrxToRGBA converts a GDI DIB section's rows (blue, green, red, unused)
// to image.RGBA's order and makes every pixel opaque: GDI leaves the fourth
// byte undefined. No Windows calls, so it is tested on Linux.
func bgrxToRGBA(dst, src []byte) {
	n := min(len(dst), len(src)) &^ 3
	dst, src = dst[:n], src[:n]
	for i := 0; i < n; i += 4 {
		s := src[i : i+4 : i+4]
		d := dst[i : i+4 : i+4]
		d[0], d[1], d[2], d[3] = s[2], s[1], s[0], 0xFF
	}
}
