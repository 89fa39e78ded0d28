package wire

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
)

// The chunks of a file transfer (Files), sent and received by both ends.
// SHA-256 costs about as much as the rest of a transfer's CPU together, so
// it runs on its own goroutine beside the reading and the sending: a few
// chunk buffers go round between the two, and the transfer waits for the
// hash only at its end.

// chunkBuffers is how many chunks may be in flight between the goroutines.
const chunkBuffers = 3

// ErrChunksTooLong is more chunk bytes than the transfer announced.
var ErrChunksTooLong = errors.New("the file's chunks are longer than its announced size")

// ErrFileShorter is a file that ended before the size its sending
// started with: it got shorter while it was read.
var ErrFileShorter = errors.New("the file got shorter while it was read")

// SendChunks sends size bytes of src to dst as chunks (without the
// zero-length end), calling progress with the bytes sent after each. It
// returns the SHA-256 (hex) of what it sent; readErr is src failing (or
// ending early: ErrFileShorter), writeErr is dst failing. Whatever
// happens, src's bytes are no longer used once it returns.
func SendChunks(dst io.Writer, src io.Reader, size int64, progress func(int64)) (digest string, readErr, writeErr error) {
	free := make(chan []byte, chunkBuffers)
	for range chunkBuffers {
		free <- make([]byte, 4+MaxFileChunk)
	}
	toHash := make(chan []byte, chunkBuffers)
	hashed := make(chan string, 1)
	go func() {
		sum := sha256.New()
		for b := range toHash {
			sum.Write(b[4:])
			free <- b[:cap(b)]
		}
		hashed <- hex.EncodeToString(sum.Sum(nil))
	}()
	var done int64
	for done < size && readErr == nil && writeErr == nil {
		buf := <-free
		n, err := io.ReadFull(src, buf[4:4+min(int64(MaxFileChunk), size-done)])
		if n > 0 {
			h := ChunkHeader(n)
			copy(buf, h[:])
			// The hash only reads the buffer, as the write does; it goes
			// back to free once hashed, and this loop takes another.
			toHash <- buf[:4+n]
			if _, writeErr = dst.Write(buf[:4+n]); writeErr == nil {
				done += int64(n)
				progress(done)
			}
		} else {
			free <- buf
		}
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			readErr = ErrFileShorter
		case err != nil:
			readErr = err
		}
	}
	close(toHash)
	return <-hashed, readErr, writeErr
}

// ReceiveChunks reads chunks from src up to the zero-length one, writing
// their bytes to dst and calling progress with the bytes read after each;
// more than limit bytes is ErrChunksTooLong. It returns the bytes and
// their SHA-256 (hex); readErr is src failing or breaking the protocol,
// writeErr is dst failing. The writing and the hash run on another
// goroutine, done with dst when ReceiveChunks returns.
func ReceiveChunks(dst io.Writer, src io.Reader, limit int64, progress func(int64)) (got int64, digest string, readErr, writeErr error) {
	free := make(chan []byte, chunkBuffers)
	for range chunkBuffers {
		free <- make([]byte, MaxFileChunk)
	}
	toWrite := make(chan []byte, chunkBuffers)
	var mu sync.Mutex
	var sinkErr error
	hashed := make(chan string, 1)
	go func() {
		sum := sha256.New()
		var stopped bool
		for b := range toWrite {
			// After a failed write the buffers still go back, so the
			// reader never waits for one; it stops at its next chunk.
			if !stopped {
				sum.Write(b)
				if _, err := dst.Write(b); err != nil {
					stopped = true
					mu.Lock()
					sinkErr = err
					mu.Unlock()
				}
			}
			free <- b[:cap(b)]
		}
		hashed <- hex.EncodeToString(sum.Sum(nil))
	}()
	failed := func() error {
		mu.Lock()
		defer mu.Unlock()
		return sinkErr
	}
	for readErr == nil {
		if writeErr = failed(); writeErr != nil {
			break
		}
		var n int
		if n, readErr = ReadChunkLen(src); readErr != nil || n == 0 {
			break
		}
		if got+int64(n) > limit {
			readErr = fmt.Errorf("%w (more than %d bytes)", ErrChunksTooLong, limit)
			break
		}
		buf := <-free
		if _, readErr = io.ReadFull(src, buf[:n]); readErr != nil {
			break
		}
		toWrite <- buf[:n]
		got += int64(n)
		progress(got)
	}
	close(toWrite)
	digest = <-hashed
	if writeErr == nil {
		writeErr = failed()
	}
	return got, digest, readErr, writeErr
}
