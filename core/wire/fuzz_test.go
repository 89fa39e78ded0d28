package wire

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The decoders below read bytes a PC, a download or the network chose.
// Each fuzz test states what must hold for any input, so `make fuzz`
// (a few seconds each) and the seeds in `go test` can catch a slip.

// FuzzReadDetails: a download's tail (trailer or tag) either carries details that read back
// the same after appending them again, or is ErrNoDetails — never a panic,
// never another error.
func FuzzReadDetails(f *testing.F) {
	good, _ := AppendDetails([]byte("MZ exe"), Details{StationURL: "https://pc.example:8443",
		Pins: []string{"n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="}, Token: "tok",
		Technician: Technician{Name: "Ana", Email: "ana@example.com"}})
	f.Add(good)
	f.Add(append([]byte{0, 0, 0, 2}, trailerMagic...))
	f.Add(append([]byte("{}\x00\x00\x00\x02"), trailerMagic...))
	f.Add(append([]byte{0xff, 0xff, 0xff, 0xff}, trailerMagic...))
	// A signed app's tag: a 16-byte stand-in for the image, then a
	// certificate table with 8 bytes of "signature".
	signed := &SignedApp{exe: append(make([]byte, 16), 16, 0, 0, 0, 0, 2, 2, 0, 0x30, 6, 1, 2, 3, 4, 5, 6),
		sizeAt: 4, table: 16, tableLen: 16}
	tag, _ := signed.Tag(Details{Token: "tok", Pins: []string{"pin="}})
	if _, err := ReadDetails(bytes.Join(tag, nil)); err != nil {
		f.Fatalf("the tag seed does not read: %v", err)
	}
	f.Add(bytes.Join(tag, nil))
	f.Fuzz(func(t *testing.T, tail []byte) {
		d, err := ReadDetails(tail)
		if err != nil {
			if !errors.Is(err, ErrNoDetails) {
				t.Fatalf("ReadDetails refused with %v, want ErrNoDetails", err)
			}
			return
		}
		again, err := AppendDetails(nil, d)
		if err != nil {
			t.Fatalf("details read from a tail do not append again: %v", err)
		}
		d2, err := ReadDetails(again)
		if err != nil || !reflect.DeepEqual(d, d2) {
			t.Fatalf("round trip: %+v, %v; want %+v", d2, err, d)
		}
	})
}

// FuzzReceiveChunks: whatever a peer sends, the receiver stops at the
// limit, writes exactly the bytes it counts, and the digest is theirs.
func FuzzReceiveChunks(f *testing.F) {
	var ok bytes.Buffer
	SendChunks(&ok, strings.NewReader("hello, PC"), 9, func(int64) {})
	f.Add(ok.Bytes(), int64(1<<20))
	f.Add(ok.Bytes(), int64(4))
	f.Add([]byte{0x00, 0x10, 0x00, 0x01, 'x'}, int64(1<<20)) // just over MaxFileChunk
	f.Add([]byte{0, 0, 0, 3, 'a', 'b'}, int64(10))           // cut mid-chunk
	f.Fuzz(func(t *testing.T, stream []byte, limit int64) {
		if limit < 0 {
			limit = -limit
		}
		var dst bytes.Buffer
		got, digest, readErr, writeErr := ReceiveChunks(&dst, bytes.NewReader(stream), limit, func(int64) {})
		if writeErr != nil {
			t.Fatalf("a bytes.Buffer failed: %v", writeErr)
		}
		if got > limit || got != int64(dst.Len()) {
			t.Fatalf("got %d bytes, wrote %d, limit %d", got, dst.Len(), limit)
		}
		sum := sha256.Sum256(dst.Bytes())
		if digest != hex.EncodeToString(sum[:]) {
			t.Fatalf("digest %s is not the written bytes' SHA-256", digest)
		}
		if readErr == nil && got > 0 && len(stream) < int(got)+4 {
			t.Fatalf("no error although the stream ended before the closing chunk")
		}
	})
}

// FuzzReadLine: a line is never longer than the reader's limit, and what
// comes back is exactly the start of the stream.
func FuzzReadLine(f *testing.F) {
	f.Add([]byte("{\"ok\":true}\n{\"next\":1}\n"), 64)
	f.Add(bytes.Repeat([]byte("x"), 100), 32)
	f.Add([]byte("\n"), 0)
	f.Fuzz(func(t *testing.T, stream []byte, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		r := bufio.NewReaderSize(bytes.NewReader(stream), 16) // smaller than most lines
		line, err := ReadLine(r, max)
		if errors.Is(err, ErrLineTooLong) {
			if line != nil {
				t.Fatalf("a refused line came back: %q", line)
			}
			return
		}
		if len(line) > max {
			t.Fatalf("line of %d bytes past max %d", len(line), max)
		}
		if !bytes.HasPrefix(stream, line) {
			t.Fatalf("line %q is not the stream's start", line)
		}
		if err == nil && (len(line) == 0 || line[len(line)-1] != '\n') {
			t.Fatalf("line %q without error does not end with a newline", line)
		}
		if err != nil && err != io.EOF {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// FuzzCleanChat: what is shown has no control character but line breaks,
// no bidirectional override, is valid UTF-8 within the limit, and cleaning
// it again changes nothing.
func FuzzCleanChat(f *testing.F) {
	f.Add("hello\r\nworld")
	f.Add("invoice_\u202Efdp.exe")
	f.Add("\x1b[2J\x00fake\u2066line")
	f.Add(strings.Repeat("é", MaxChatText+1))
	f.Fuzz(func(t *testing.T, text string) {
		out, err := CleanChat(text)
		if err != nil {
			var long *ChatTooLongError
			if !errors.As(err, &long) || long.Length <= MaxChatText {
				t.Fatalf("refused with %v", err)
			}
			return
		}
		checkShown(t, out, true)
		if again, _ := CleanChat(out); again != out {
			t.Fatalf("cleaning twice changed %q to %q", out, again)
		}
		name := CleanChatName(text)
		checkShown(t, name, false)
		if utf8.RuneCountInString(name) > MaxChatName {
			t.Fatalf("name %q longer than %d", name, MaxChatName)
		}
	})
}

func checkShown(t *testing.T, s string, lines bool) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%q is not valid UTF-8", s)
	}
	for _, c := range s {
		if (unicode.IsControl(c) && !(lines && c == '\n')) || isBidiControl(c) {
			t.Fatalf("%q keeps %U", s, c)
		}
	}
}

// FuzzStreamLines: the first line of every stream and each line after it
// is JSON into one of these types; whatever decodes must encode again
// (the station logs and re-sends some), and nothing may panic.
func FuzzStreamLines(f *testing.F) {
	for _, seed := range []string{
		`{"technician":"Ana","password":"p","attach":"k","command":{"shell":"cmd","line":"dir"}}`,
		`{"ok":true,"key":"k","streams":["command","files","chat","screen"]}`,
		`{"out":"hello","done":true,"exit":0}`,
		`{"path":"C:\\","entries":[{"name":"a.txt","size":1,"dir":false}]}`,
		`{"input":{"kind":"key","key":"a","down":true},"control":true,"max_fps":30}`,
		`{"text":"hi","from":"Anna"}`,
		`{"hostname":"PC\u001b[2J","os_name":"Windows 11 Pro"}`,
	} {
		f.Add([]byte(seed))
	}
	targets := []func() any{
		func() any { return new(SignIn) }, func() any { return new(SignInResult) },
		func() any { return new(CommandFrame) }, func() any { return new(StopCommand) },
		func() any { return new(Request) }, func() any { return new(Reply) },
		func() any { return new(SystemInfo) }, func() any { return new(Files) },
		func() any { return new(FilesReply) }, func() any { return new(FilesEnd) },
		func() any { return new(ScreenOpen) }, func() any { return new(ScreenInfo) },
		func() any { return new(ScreenStop) }, func() any { return new(ScreenControl) },
		func() any { return new(ChatMessage) }, func() any { return new(Facts) },
		func() any { return new(PairRequest) }, func() any { return new(AgentRequest) },
		func() any { return new(StatusResponse) }, func() any { return new(Error) },
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, mk := range targets {
			v := mk()
			if json.Unmarshal(line, v) != nil {
				continue
			}
			if _, err := json.Marshal(v); err != nil {
				t.Fatalf("%T decoded from %q does not encode: %v", v, line, err)
			}
		}
	})
}
