package frame

import (
	"bytes"
	"testing"
)

func TestBGRXToRGBA(t *testing.T) {
	src := []byte{1, 2, 3, 0, 10, 20, 30, 77}
	dst := make([]byte, len(src))
	BGRXToRGBA(dst, src)
	if want := []byte{3, 2, 1, 255, 30, 20, 10, 255}; !bytes.Equal(dst, want) {
		t.Fatalf("got %v, want %v", dst, want)
	}
}

// BenchmarkBGRXToRGBA is the conversion's share of a 1920×1080 capture.
func BenchmarkBGRXToRGBA(b *testing.B) {
	src := make([]byte, 1920*1080*4)
	dst := make([]byte, len(src))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		BGRXToRGBA(dst, src)
	}
}
