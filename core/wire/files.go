package wire

import (
	"bufio"
	"errors"
	"io"
	"time"
)

// The Files tab: one attached stream per operation, started with
// SignIn{Attach: KEY, Files: &Files{…}} and answered with SignInResult
// (docs/PROTOCOL.md, "Files"). After its OK the PC sends one FilesReply
// line. A download's reply (Size set) is followed by chunks from the PC; an
// upload's reply (no Error) is followed by chunks from the station, then
// the PC's final FilesReply. A chunk is a 4-byte big-endian length and that
// many bytes; a zero length ends the chunks and is followed by a FilesEnd
// line. Closing the stream cancels the operation.
type Files struct {
	Op string `json:"op"` // FilesDrives, FilesList, FilesDownload or FilesUpload
	// Path is the folder to list, the file to download or the folder to
	// upload into.
	Path      string `json:"path,omitempty"`
	Name      string `json:"name,omitempty"` // upload: the file's name in Path
	Size      int64  `json:"size,omitempty"` // upload: how many bytes follow
	Overwrite bool   `json:"overwrite,omitempty"`
}

// The operations of Files.
const (
	FilesDrives   = "drives"
	FilesList     = "list"
	FilesDownload = "download"
	FilesUpload   = "upload"
)

// FilesReply is the PC's answer line: Error (a sentence for the
// technician) with its Code, or what the operation asked for.
type FilesReply struct {
	Error   string  `json:"error,omitempty"`
	Code    string  `json:"code,omitempty"`
	Path    string  `json:"path,omitempty"` // the folder listed or the file written, in the PC's spelling
	Drives  []Drive `json:"drives,omitempty"`
	Entries []Entry `json:"entries,omitempty"`
	Size    int64   `json:"size,omitempty"`   // download: bytes to come; upload's end: bytes written
	SHA256  string  `json:"sha256,omitempty"` // upload's end: hex digest of what was written
}

// FilesEnd follows the last chunk: the sender's SHA-256 (hex) of the
// bytes, or Error (with Code) when the sender could not go on.
type FilesEnd struct {
	SHA256 string `json:"sha256,omitempty"`
	Error  string `json:"error,omitempty"`
	Code   string `json:"code,omitempty"`
}

// Drive is a place to start browsing: C:\ and its kind on Windows, / on
// other systems.
type Drive struct {
	Path  string `json:"path"`
	Label string `json:"label,omitempty"`
	Kind  string `json:"kind,omitempty"` // fixed, removable, network, cd-rom, ram disk
	Total uint64 `json:"total,omitempty"`
	Free  uint64 `json:"free,omitempty"`
}

// Entry is one item of a folder.
type Entry struct {
	Name     string    `json:"name"`
	Folder   bool      `json:"folder,omitempty"`
	Size     int64     `json:"size,omitempty"`
	Modified time.Time `json:"modified"`
	// Listed is the PC's own spelling when the station cleaned Name for
	// showing and saving (core's List); it names the entry to the PC.
	Listed string `json:"-"`
}

// PCName is the entry's name as the PC spells it.
func (e Entry) PCName() string {
	if e.Listed != "" {
		return e.Listed
	}
	return e.Name
}

// Codes of a FilesReply's or FilesEnd's Error; the station's refusals use
// the same words.
const (
	CodeFileNotFound = "file_not_found"
	CodeNotAFolder   = "not_a_folder"
	CodeIsAFolder    = "is_a_folder"
	CodeFileDenied   = "file_denied"
	CodeDiskFull     = "pc_disk_full"
	CodeFileInUse    = "file_in_use"
	CodeFileExists   = "file_exists"
	CodeBadName      = "bad_file_name"
	CodeChecksum     = "checksum_mismatch"
	CodeFileFailed   = "file_failed"
)

// Limits of the Files streams.
const (
	MaxFileChunk = 1 << 20  // bytes in one chunk
	MaxFilesLine = 64 << 20 // a reply line (a folder of many entries)
)

// ChunkHeader is the length prefix of a chunk of n bytes.
func ChunkHeader(n int) [4]byte {
	return [4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
}

// ErrBadChunk is a chunk longer than MaxFileChunk: the stream is not
// following the protocol.
var ErrBadChunk = errors.New("a file chunk is longer than the protocol allows")

// ReadChunkLen reads a chunk's length prefix.
func ReadChunkLen(r io.Reader) (int, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, err
	}
	n := int(h[0])<<24 | int(h[1])<<16 | int(h[2])<<8 | int(h[3])
	if n > MaxFileChunk {
		return 0, ErrBadChunk
	}
	return n, nil
}

// ErrLineTooLong is a reply line over the limit its reader set.
var ErrLineTooLong = errors.New("a line on the stream is longer than the protocol allows")

// ReadLine reads one newline-ended line of at most max bytes from r,
// however small r's buffer is.
func ReadLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		part, err := r.ReadSlice('\n')
		if len(line)+len(part) > max {
			return nil, ErrLineTooLong
		}
		line = append(line, part...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}
