package record

import (
	"bytes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// File is a recording opened for playback. Its methods may be called from
// one goroutine at a time.
type File struct {
	f        *os.File
	aead     cipher.AEAD
	size     int64
	first    int64 // the meta record's offset
	Meta     Meta
	Index    Index
	Complete bool // the index was found; otherwise Index was rebuilt by reading every record
}

// Record is one record read back.
type Record struct {
	Type    byte
	T       time.Duration
	Off     int64
	Next    int64 // the offset after it
	Payload []byte
}

// Open opens the recording at path. A recording without its index (the
// station stopped during the session) opens with Complete false. Errors:
// ErrNotRecording, ErrTampered (a record does not open with its key), or
// the file system's.
func Open(path string, s Sealer) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := open(f, s)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func open(f *os.File, s Sealer) (*File, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	head := make([]byte, len(magic)+2)
	if _, err := io.ReadFull(f, head); err != nil || string(head[:len(magic)]) != magic {
		return nil, ErrNotRecording
	}
	sealed := make([]byte, binary.BigEndian.Uint16(head[len(magic):]))
	if _, err := io.ReadFull(f, sealed); err != nil {
		return nil, ErrNotRecording
	}
	key, err := s.Open(sealed, []byte(keyAAD))
	if err != nil {
		return nil, fmt.Errorf("%w: its key does not open with this station's key", ErrTampered)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	r := &File{f: f, aead: aead, size: st.Size(), first: int64(len(head) + len(sealed))}
	meta, err := r.ReadAt(r.first)
	if err != nil {
		return nil, err
	}
	if meta.Type != TypeMeta || json.Unmarshal(meta.Payload, &r.Meta) != nil {
		return nil, fmt.Errorf("%w: its first record is not its description", ErrTampered)
	}
	if err := r.readIndex(); err == nil {
		r.Complete = true
		return r, nil
	}
	// No usable index: rebuild it from the records that open.
	r.Index, _, err = r.scan(meta.Next)
	if err != nil && !errors.Is(err, ErrUnfinished) {
		return nil, err
	}
	return r, nil
}

// Close closes the file.
func (r *File) Close() error { return r.f.Close() }

// Size is the file's size in bytes.
func (r *File) Size() int64 { return r.size }

func (r *File) readIndex() error {
	if r.size < r.first+footSize {
		return ErrUnfinished
	}
	foot := make([]byte, footSize)
	if _, err := r.f.ReadAt(foot, r.size-footSize); err != nil || string(foot[8:]) != footMagic {
		return ErrUnfinished
	}
	rec, err := r.ReadAt(int64(binary.BigEndian.Uint64(foot)))
	if err != nil || rec.Type != TypeIndex || rec.Next != r.size-footSize {
		return ErrUnfinished
	}
	return json.Unmarshal(rec.Payload, &r.Index)
}

// ReadAt reads and opens the record at off. Errors: io.EOF at the end,
// ErrUnfinished for a record cut short, ErrTampered for one that does not
// open (changed, or moved from another offset).
func (r *File) ReadAt(off int64) (Record, error) {
	var head [recordHead]byte
	if _, err := r.f.ReadAt(head[:], off); err != nil {
		if errors.Is(err, io.EOF) && off == r.size {
			return Record{}, io.EOF
		}
		return Record{}, ErrUnfinished
	}
	n := int64(binary.BigEndian.Uint32(head[9:]))
	if n > MaxRecord || n < int64(r.aead.Overhead()) {
		return Record{}, fmt.Errorf("%w: the record at byte %d has an impossible length", ErrTampered, off)
	}
	if off+recordHead+n > r.size {
		return Record{}, ErrUnfinished
	}
	sealed := make([]byte, n)
	if _, err := r.f.ReadAt(sealed, off+recordHead); err != nil {
		return Record{}, ErrUnfinished
	}
	plain, err := r.aead.Open(sealed[:0], nonce(off), sealed, aad(off, head[:]))
	if err != nil {
		return Record{}, fmt.Errorf("%w: the record at byte %d does not match its seal", ErrTampered, off)
	}
	return Record{Type: head[0], T: time.Duration(binary.BigEndian.Uint64(head[1:])), Off: off, Next: off + recordHead + n, Payload: plain}, nil
}

// scan reads every record from off, rebuilding the index, up to the index
// record (returned as found) or the end.
func (r *File) scan(off int64) (Index, *Index, error) {
	var idx Index
	for {
		rec, err := r.ReadAt(off)
		if errors.Is(err, io.EOF) {
			return idx, nil, ErrUnfinished
		}
		if err != nil {
			return idx, nil, err
		}
		switch rec.Type {
		case TypeIndex:
			var found Index
			if json.Unmarshal(rec.Payload, &found) != nil {
				return idx, nil, fmt.Errorf("%w: its index does not read", ErrTampered)
			}
			if rec.Next != r.size-footSize {
				return idx, &found, fmt.Errorf("%w: there are bytes after its index", ErrTampered)
			}
			idx.Duration = max(idx.Duration, rec.T)
			return idx, &found, nil
		case TypeFrame:
			idx.Frames++
			if isFull(rec.Payload) {
				idx.Keys = append(idx.Keys, Mark{Type: rec.Type, T: rec.T, Off: rec.Off})
			}
		case TypeKey:
			idx.Keys = append(idx.Keys, Mark{Type: rec.Type, T: rec.T, Off: rec.Off})
		case TypeMeta:
			return idx, nil, fmt.Errorf("%w: a second description at byte %d", ErrTampered, rec.Off)
		default:
			idx.Events = append(idx.Events, Mark{Type: rec.Type, T: rec.T, Off: rec.Off})
		}
		idx.Duration = max(idx.Duration, rec.T)
		off = rec.Next
	}
}

// Verify opens every record of the file and checks that the index at its
// end is the one they make: nil for an intact, complete recording,
// ErrTampered or ErrUnfinished otherwise.
func (r *File) Verify() error {
	meta, err := r.ReadAt(r.first)
	if err != nil {
		return err
	}
	built, found, err := r.scan(meta.Next)
	if err != nil {
		return err
	}
	if !sameIndex(built, *found) {
		return fmt.Errorf("%w: its index does not match its records", ErrTampered)
	}
	if err := r.readIndex(); err != nil {
		return fmt.Errorf("%w: its last bytes do not point at its index", ErrTampered)
	}
	return nil
}

func sameIndex(a, b Index) bool {
	return a.Frames == b.Frames && a.Duration == b.Duration && slices.Equal(a.Keys, b.Keys) && slices.Equal(a.Events, b.Events)
}

// Events reads the records the index lists as events, in order.
func (r *File) Events() ([]Record, error) {
	out := make([]Record, 0, len(r.Index.Events))
	for _, m := range r.Index.Events {
		rec, err := r.ReadAt(m.Off)
		if err != nil {
			return out, err
		}
		if rec.Type != m.Type || rec.T != m.T {
			return out, fmt.Errorf("%w: its index does not match the record at byte %d", ErrTampered, m.Off)
		}
		out = append(out, rec)
	}
	return out, nil
}

// Decode reads a record's JSON payload into v.
func (rec Record) Decode(v any) error {
	dec := json.NewDecoder(bytes.NewReader(rec.Payload))
	return dec.Decode(v)
}
