package support

import (
	"io"
	"sync"
)

// RotatingLog is a log file that never grows past Max bytes: a write that
// would pass it first moves the file aside (replacing the one moved aside
// before) and starts a new one, so the log and its predecessor hold at
// most 2×Max. The screen helper writes its log through it; it runs as long
// as the service does, which may be weeks. The file operations are
// functions so Linux tests run it on real files.
type RotatingLog struct {
	Max int64
	// Open opens the log for appending and says its current size.
	Open func() (io.WriteCloser, int64, error)
	// Rotate moves the closed log aside, replacing the previous one.
	Rotate func() error

	mu   sync.Mutex
	w    io.WriteCloser
	size int64
	err  error // why the log could not be opened: writes are dropped
}

// Write writes p whole into the current file, rotating first if p would
// take it past Max. A log that cannot be written loses the line, never
// the caller's work: Write always reports success.
func (l *RotatingLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil && l.err == nil {
		l.w, l.size, l.err = l.Open()
	}
	if l.w != nil && l.size > 0 && l.size+int64(len(p)) > l.Max {
		l.w.Close()
		l.w = nil
		if l.err = l.Rotate(); l.err == nil {
			l.w, l.size, l.err = l.Open()
		}
	}
	if l.w == nil {
		return len(p), nil
	}
	n, err := l.w.Write(p)
	l.size += int64(n)
	if err != nil {
		l.w.Close()
		l.w, l.err = nil, err
	}
	return len(p), nil
}

// Close closes the current file.
func (l *RotatingLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return nil
	}
	err := l.w.Close()
	l.w = nil
	return err
}
