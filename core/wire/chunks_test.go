package wire

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"
)

// errWriter fails its writes after ok bytes.
type errWriter struct {
	ok  int
	err error
}

func (w *errWriter) Write(p []byte) (int, error) {
	if len(p) > w.ok {
		return 0, w.err
	}
	w.ok -= len(p)
	return len(p), nil
}

func TestChunksRoundTrip(t *testing.T) {
	for _, size := range []int{0, 1, MaxFileChunk, 5*MaxFileChunk + 123} {
		data := make([]byte, size)
		rand.Read(data)
		var stream bytes.Buffer
		var sent []int64
		digest, readErr, writeErr := SendChunks(&stream, bytes.NewReader(data), int64(size), func(n int64) { sent = append(sent, n) })
		if readErr != nil || writeErr != nil {
			t.Fatalf("size %d: send: %v, %v", size, readErr, writeErr)
		}
		want := sha256.Sum256(data)
		if digest != hex.EncodeToString(want[:]) {
			t.Fatalf("size %d: the sender's digest is not the data's", size)
		}
		if size > 0 && sent[len(sent)-1] != int64(size) {
			t.Fatalf("size %d: progress ended at %v", size, sent)
		}
		h := ChunkHeader(0)
		stream.Write(h[:])
		var out bytes.Buffer
		got, rdigest, readErr, writeErr := ReceiveChunks(&out, &stream, int64(size), func(int64) {})
		if readErr != nil || writeErr != nil || got != int64(size) || rdigest != digest || !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("size %d: received %d bytes (%v, %v), digest match %v, bytes equal %v", size, got, readErr, writeErr, rdigest == digest, bytes.Equal(out.Bytes(), data))
		}
	}
}

// A file that ends before its size is the reader's fault, not the stream's.
func TestSendChunksFileShorter(t *testing.T) {
	var stream bytes.Buffer
	_, readErr, writeErr := SendChunks(&stream, bytes.NewReader(make([]byte, 3*MaxFileChunk)), 4*MaxFileChunk, func(int64) {})
	if !errors.Is(readErr, ErrFileShorter) || writeErr != nil {
		t.Fatalf("got %v, %v; want ErrFileShorter", readErr, writeErr)
	}
}

func TestSendChunksWriteFails(t *testing.T) {
	boom := errors.New("stream closed")
	_, readErr, writeErr := SendChunks(&errWriter{ok: MaxFileChunk + 4, err: boom}, bytes.NewReader(make([]byte, 8*MaxFileChunk)), 8*MaxFileChunk, func(int64) {})
	if readErr != nil || !errors.Is(writeErr, boom) {
		t.Fatalf("got %v, %v; want the write's error", readErr, writeErr)
	}
}

// chunks makes a stream of count full chunks and the end.
func chunks(count int) *bytes.Buffer {
	var stream bytes.Buffer
	for range count {
		h := ChunkHeader(MaxFileChunk)
		stream.Write(h[:])
		stream.Write(make([]byte, MaxFileChunk))
	}
	h := ChunkHeader(0)
	stream.Write(h[:])
	return &stream
}

// The receiver stops at the announced size: a sender cannot fill the disk.
func TestReceiveChunksBounded(t *testing.T) {
	var out bytes.Buffer
	got, _, readErr, _ := ReceiveChunks(&out, chunks(5), 3*MaxFileChunk+10, func(int64) {})
	if !errors.Is(readErr, ErrChunksTooLong) || got > 3*MaxFileChunk+10 || out.Len() > 3*MaxFileChunk+10 {
		t.Fatalf("got %d bytes written %d, %v; want ErrChunksTooLong within the size", got, out.Len(), readErr)
	}
	var big bytes.Buffer
	h := [4]byte{0, 0x10, 0, 1} // MaxFileChunk+1
	big.Write(h[:])
	if _, _, readErr, _ := ReceiveChunks(io.Discard, &big, 1<<40, func(int64) {}); !errors.Is(readErr, ErrBadChunk) {
		t.Fatalf("a chunk over MaxFileChunk gave %v; want ErrBadChunk", readErr)
	}
	if _, _, readErr, _ := ReceiveChunks(io.Discard, bytes.NewReader(chunks(2).Bytes()[:MaxFileChunk]), 1<<40, func(int64) {}); !errors.Is(readErr, io.ErrUnexpectedEOF) {
		t.Fatalf("a cut stream gave %v; want io.ErrUnexpectedEOF", readErr)
	}
}

// A failing disk stops the receiving with the write's error, and no
// goroutine is left waiting (the race detector and the return prove it).
func TestReceiveChunksWriteFails(t *testing.T) {
	boom := errors.New("disk full")
	got, _, readErr, writeErr := ReceiveChunks(&errWriter{ok: MaxFileChunk, err: boom}, chunks(20), 1<<40, func(int64) {})
	if readErr != nil || !errors.Is(writeErr, boom) || got == 20*MaxFileChunk {
		t.Fatalf("got %d bytes, %v, %v; want the write's error before the end", got, readErr, writeErr)
	}
}
