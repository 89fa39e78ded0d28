// Package record keeps a remote session's recording: one append-only file
// per remote session holding the screen frames as the PC sent them, the
// commands with their output, the chat, the transfers (names, sizes and
// SHA-256, never contents) and the control changes, each stamped with the
// time since the recording began. docs/RECORDING.md describes the format.
//
// Every record is sealed on its own (AES-256-GCM with a key of the file's
// own, which the station key seals into the file's head), bound to its
// offset in the file: a changed, moved or removed record fails to open. The
// index written last says the file is complete; the station enters the
// file's SHA-256 in the audit chain, so a replaced or deleted file is
// detected too.
package record

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	"adhocstation/core/refusal"
	"adhocstation/core/wire/frame"
)

// Sealer seals the file key with the station key (core's keys).
type Sealer interface {
	Seal(plain, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
}

// Record types.
const (
	TypeMeta       byte = 'H' // Meta, the first record
	TypeFrame      byte = 'F' // a frame payload as the PC sent it
	TypeKey        byte = 'K' // a full lossless frame of the screen at that moment, to seek to
	TypeScreen     byte = 'S' // Toggle: screen viewing started or ended
	TypeControl    byte = 'C' // Toggle: control switched on or off
	TypeCommand    byte = 'R' // Command started
	TypeOutput     byte = 'O' // Output of a command
	TypeCommandEnd byte = 'E' // CommandEnd
	TypeChat       byte = 'M' // Chat
	TypeTransfer   byte = 'T' // Transfer
	TypeClipboard  byte = 'P' // Clipboard text sent to or from the PC
	TypeSAS        byte = 'A' // Ctrl+Alt+Del sent (empty JSON object)
	TypeNote       byte = 'W' // Note: the recorder's own remark (frames dropped, stopped)
	TypeIndex      byte = 'I' // Index, the last record
)

// Ext is a recording file's extension.
const Ext = ".ahsrec"

const (
	magic      = "AHSREC01"
	footMagic  = "AHSRECND"
	recordHead = 13 // type 1, time 8, length 4
	footSize   = 16 // index offset 8, footMagic
	keyAAD     = "ad hoc support recording key v1"
	// MaxRecord bounds one record's sealed payload: a keyframe of the
	// largest screen a frame may carry, compressed, fits with room.
	MaxRecord = 256 << 20
)

// Meta says whose session a recording is.
type Meta struct {
	SessionID  int64
	Computer   string
	Technician string
	Started    time.Time // wall clock, for people; record times are monotonic offsets
}

// Toggle is a screen or control change.
type Toggle struct{ On bool }

// Command is a command as typed.
type Command struct {
	ID    int64
	Shell string
	Line  string
}

// Output is a piece of a command's output.
type Output struct {
	ID   int64
	Text string
}

// CommandEnd is how a command ended ("" when it succeeded).
type CommandEnd struct {
	ID     int64
	Result string
}

// Chat is a chat message or notice shown in the window.
type Chat struct {
	From   string
	Text   string
	Notice string `json:",omitempty"`
	Sent   bool   // the technician wrote it
}

// Transfer is a file transfer's names, size and checksum.
type Transfer struct {
	Upload bool
	Remote string
	Local  string
	Size   int64
	SHA256 string
	Result string // "" when it succeeded
}

// Clipboard is clipboard text exchanged in the Screen tab.
type Clipboard struct {
	Text string
	ToPC bool
}

// Note is the recorder's own remark.
type Note struct{ Text string }

// Mark is a record the index points at.
type Mark struct {
	Type byte
	T    time.Duration
	Off  int64
}

// Index is the last record: where the keyframes and the events are.
type Index struct {
	Keys     []Mark // frame records that start the picture afresh (TypeKey, or full frames)
	Events   []Mark // every record but frames, keyframes and the meta
	Frames   int
	Duration time.Duration
}

// Writer appends records to a new recording file. It is not safe for
// concurrent use: the Recorder's one goroutine owns it.
type Writer struct {
	f     *os.File
	w     *bufio.Writer
	aead  cipher.AEAD
	sum   hash.Hash
	off   int64
	index Index
	err   error
}

// Create starts a recording at path (which must not exist) for meta.
func Create(path string, s Sealer, meta Meta) (*Writer, error) {
	fileKey := make([]byte, 32)
	if _, err := rand.Read(fileKey); err != nil {
		return nil, err
	}
	sealed, err := s.Seal(fileKey, []byte(keyAAD))
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(fileKey)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	w, err := newWriter(f, aead, sealed, meta)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return w, nil
}

// newWriter writes the head and the meta record to f.
func newWriter(f *os.File, aead cipher.AEAD, sealed []byte, meta Meta) (*Writer, error) {
	w := &Writer{f: f, sum: sha256.New(), aead: aead}
	w.w = bufio.NewWriterSize(io.MultiWriter(f, w.sum), 256<<10)
	head := binary.BigEndian.AppendUint16([]byte(magic), uint16(len(sealed)))
	w.write(append(head, sealed...))
	b, _ := json.Marshal(meta)
	if err := w.Append(TypeMeta, 0, b); err != nil {
		return nil, err
	}
	return w, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	_, w.err = w.w.Write(b)
	w.off += int64(len(b))
}

// nonce is unique per record of a file: its offset.
func nonce(off int64) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n[4:], uint64(off))
	return n
}

// Append seals payload as a record of type typ at time t. A write error
// (a full disk) is kept and returned by every later call.
func (w *Writer) Append(typ byte, t time.Duration, payload []byte) error {
	if w.err != nil {
		return w.err
	}
	size := len(payload) + w.aead.Overhead()
	if size > MaxRecord {
		return fmt.Errorf("a record of %d bytes is over the limit", size)
	}
	head := make([]byte, recordHead, recordHead+size)
	head[0] = typ
	binary.BigEndian.PutUint64(head[1:], uint64(t))
	binary.BigEndian.PutUint32(head[9:], uint32(size))
	off := w.off
	out := w.aead.Seal(head, nonce(off), payload, aad(off, head[:recordHead]))
	w.write(out)
	if w.err != nil {
		return w.err
	}
	switch {
	case typ == TypeFrame:
		w.index.Frames++
		if isFull(payload) {
			w.index.Keys = append(w.index.Keys, Mark{Type: typ, T: t, Off: off})
		}
	case typ == TypeKey:
		w.index.Keys = append(w.index.Keys, Mark{Type: typ, T: t, Off: off})
	case typ != TypeMeta && typ != TypeIndex:
		w.index.Events = append(w.index.Events, Mark{Type: typ, T: t, Off: off})
	}
	w.index.Duration = max(w.index.Duration, t)
	return nil
}

// isFull says whether playback may start from a frame payload: it paints
// the whole image on its own (a full frame, or full-screen video).
func isFull(payload []byte) bool { return frame.Standalone(payload) }

func aad(off int64, head []byte) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(off)), head...)
}

// Summary is a finished recording's size and SHA-256, for the audit.
type Summary struct {
	Size   int64
	SHA256 string
	Frames int
	Length time.Duration
}

// Finish writes the index and the footer, syncs and closes the file. After
// a write error it closes the file as it is (incomplete) and returns the
// error.
func (w *Writer) Finish(end time.Duration) (Summary, error) {
	w.index.Duration = max(w.index.Duration, end)
	b, _ := json.Marshal(w.index)
	indexOff := w.off
	if err := w.Append(TypeIndex, w.index.Duration, b); err == nil {
		foot := binary.BigEndian.AppendUint64(nil, uint64(indexOff))
		w.write(append(foot, footMagic...))
	}
	if w.err == nil {
		w.err = w.w.Flush()
	}
	if w.err == nil {
		w.err = w.f.Sync()
	}
	if err := w.f.Close(); w.err == nil {
		w.err = err
	}
	return Summary{Size: w.off, SHA256: hex.EncodeToString(w.sum.Sum(nil)), Frames: w.index.Frames, Length: w.index.Duration}, w.err
}

// Abandon closes the file as it is, after a write error.
func (w *Writer) Abandon() {
	_ = w.w.Flush()
	w.f.Close()
}

// Refusals of reading a recording.
var (
	ErrNotRecording = refusal.New("not_recording", "That file is not a session recording of this station. Choose a file from the station's recordings folder.")
	ErrTampered     = refusal.New("recording_tampered", "The recording was changed after it was written (or sealed with another station's key), so it cannot be trusted. Keep the file for investigation and tell whoever looks after the station.")
	ErrUnfinished   = refusal.New("recording_unfinished", "The recording is incomplete: it ends before its index, because the station stopped during the session or the end was cut off. What it holds up to there can still be played.")
)

// FileSHA256 is the hex SHA-256 of the file at path.
func FileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
