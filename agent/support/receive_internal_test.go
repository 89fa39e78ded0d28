package support

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"adhocstation/core/wire"
)

// An upload whose bytes have the announced size but not the announced
// SHA-256 (the stream was tampered with, or the station's file changed
// under it) is refused with the checksum code and never renamed into
// place; its partial file is removed.
func TestUploadWithAWrongChecksumIsNotSaved(t *testing.T) {
	dir := t.TempDir()
	st, pc := net.Pipe()
	defer st.Close()
	defer pc.Close()
	got := make(chan error, 1)
	go func() {
		got <- (&App{}).receiveFile(pc, bufio.NewReader(pc), nil, wire.Files{Op: wire.FilesUpload, Path: dir, Name: "note.txt", Size: 5}, "Ana Tech")
	}()
	in := bufio.NewReader(st)
	var ready wire.FilesReply
	if line, err := in.ReadSlice('\n'); err != nil || json.Unmarshal(line, &ready) != nil || ready.Error != "" {
		t.Fatalf("the PC's first answer: %q, %v", line, err)
	}
	if _, readErr, writeErr := wire.SendChunks(st, strings.NewReader("hello"), 5, func(int64) {}); readErr != nil || writeErr != nil {
		t.Fatal(readErr, writeErr)
	}
	b, _ := json.Marshal(wire.FilesEnd{SHA256: strings.Repeat("0", 64)})
	h := wire.ChunkHeader(0)
	if _, err := st.Write(append(h[:], append(b, '\n')...)); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, in) }() // the PC's last answer, whichever it is
	var err error
	select {
	case err = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the PC never finished the upload")
	}
	var fe *fileError
	if !errors.As(err, &fe) || fe.code != wire.CodeChecksum {
		t.Fatalf("an upload with a wrong checksum ended with %v, want the checksum refusal", err)
	}
	if des, _ := os.ReadDir(dir); len(des) != 0 {
		t.Fatalf("the folder holds %v after a refused upload", des)
	}
}
