// Package landing is where a file transfer lands, at either end: the
// station's downloads (core/remote) and the PC's uploads (agent/support).
// Both write under a hidden temporary name beside the target, check the
// size and SHA-256 (the caller's part: each words its own refusal), sync,
// and only then rename over the real name, so a cut, a cancel or a full
// disk never leaves a partial file under the real name. It sits beside
// core/wire because the Support Session app may import nothing else of the
// station.
package landing

import "os"

// Suffix ends the hidden name a transfer is written under until it is
// complete and checked.
const Suffix = ".adhoc-partial"

// writebackEvery is how many bytes are written between asking the kernel
// to start putting them on disk.
const writebackEvery = 8 << 20

// File is a transfer's partial file. Write to it, then Land it; Discard it
// on any failure.
type File struct {
	f            *os.File
	off, started int64
}

// Create makes a hidden partial file for name in dir: "~name.*" + Suffix,
// with the hidden attribute where there is one.
func Create(dir, name string) (*File, error) {
	f, err := os.CreateTemp(dir, "~"+name+".*"+Suffix)
	if err != nil {
		return nil, err
	}
	setHidden(f.Name(), true)
	return &File{f: f}, nil
}

// Name is the partial file's path.
func (f *File) Name() string { return f.f.Name() }

// Write writes to the file, starting the disk writes of each
// writebackEvery bytes while the transfer goes on, so the one fsync in
// Land finds little left to write instead of the whole file.
func (f *File) Write(p []byte) (int, error) {
	n, err := f.f.Write(p)
	f.off += int64(n)
	if f.off-f.started >= writebackEvery {
		startWriteback(f.f, f.started, f.off-f.started)
		f.started = f.off
	}
	return n, err
}

// Land syncs and closes the checked file, then, if before (which may be
// nil) agrees, renames it over final without its hidden attribute (which
// would stay with the final name). The first error is returned as it is.
func (f *File) Land(final string, before func() error) error {
	if err := f.f.Sync(); err != nil {
		return err
	}
	if err := f.f.Close(); err != nil {
		return err
	}
	if before != nil {
		if err := before(); err != nil {
			return err
		}
	}
	setHidden(f.f.Name(), false)
	return os.Rename(f.f.Name(), final)
}

// Discard closes and removes the partial file: a failed transfer leaves
// nothing behind.
func (f *File) Discard() error {
	f.f.Close()
	return os.Remove(f.f.Name())
}
