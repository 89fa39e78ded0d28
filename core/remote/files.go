package remote

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"adhocstation/core/refusal"
	"adhocstation/core/wire"
	"adhocstation/core/wire/landing"
)

// The Files tab: each operation on its own stream attached to the
// signed-in one. Both ends write a transfer under a hidden temporary name
// beside the target and rename it only once its size and SHA-256 match, so
// a cut, a cancel or a full disk never leaves a partial file under the
// real name (core/wire/landing, which both ends use).

// Refusals of the Files tab. The PC's refusals carry the PC's sentence
// (naming the path) under these codes.
var (
	ErrRemoteFileNotFound = refusal.New(wire.CodeFileNotFound, "That path does not exist on the PC. Check it, or go up a folder and look.")
	ErrRemoteNotAFolder   = refusal.New(wire.CodeNotAFolder, "That path is a file on the PC, not a folder.")
	ErrRemoteIsAFolder    = refusal.New(wire.CodeIsAFolder, "That path is a folder on the PC, not a file.")
	ErrRemoteFileDenied   = refusal.New(wire.CodeFileDenied, "The support account may not use that path on the PC (access denied).")
	ErrRemoteDiskFull     = refusal.New(wire.CodeDiskFull, "The PC's disk is full. Free some space there and try again.")
	ErrRemoteFileInUse    = refusal.New(wire.CodeFileInUse, "The file is in use by another program on the PC. Close it there and try again.")
	ErrRemoteFileExists   = refusal.New(wire.CodeFileExists, "A file of that name already exists on the PC. Choose to replace it, or rename the file.")
	ErrBadFileName        = refusal.New(wire.CodeBadName, "That name cannot be a file's name on the PC. Rename the file and try again.")
	ErrTransferCorrupt    = refusal.New(wire.CodeChecksum, "The bytes received do not match the file (size or checksum differs), so nothing was saved. Try the transfer again.")
	ErrRemoteFileFailed   = refusal.New(wire.CodeFileFailed, "The PC could not use that file. Try again; the PC's log says why.")
	ErrTransferCut        = refusal.New("transfer_cut", "The connection to the PC was lost during the transfer, so nothing was saved. Connect again and start the transfer again.")
	ErrTransferCancelled  = refusal.New("transfer_cancelled", "The transfer was cancelled; nothing was saved.")
	ErrLocalDiskFull      = refusal.New("local_disk_full", "This computer's disk is full, so the download was not saved. Free some space (or choose another folder) and download again.")
	ErrLocalFile          = refusal.New("local_file", "This computer could not read or write that file. Choose another place and try again.")
)

// pcRefusals maps the PC's codes to the refusals they match.
var pcRefusals = map[string]*refusal.Error{}

func init() {
	for _, e := range []*refusal.Error{ErrRemoteFileNotFound, ErrRemoteNotAFolder, ErrRemoteIsAFolder, ErrRemoteFileDenied,
		ErrRemoteDiskFull, ErrRemoteFileInUse, ErrRemoteFileExists, ErrBadFileName, ErrTransferCorrupt, ErrRemoteFileFailed} {
		pcRefusals[e.Code] = e
	}
}

// pcRefusal is the PC's sentence under its code's refusal.
func pcRefusal(code, text string) error {
	e, ok := pcRefusals[code]
	if !ok {
		e = ErrRemoteFileFailed
	}
	if text = wire.CleanShown(text); text == "" {
		return e
	}
	return &refusal.Error{Code: e.Code, Message: text}
}

// Progress is told the bytes done of total as a transfer goes.
type Progress func(done, total int64)

// filesStream opens an attached stream for op and reads the PC's first
// reply. Close the stream when done: its closing ends the operation.
func (r *RemoteSession) filesStream(ctx context.Context, f wire.Files) (net.Conn, *bufio.Reader, wire.FilesReply, error) {
	var reply wire.FilesReply
	conn, in, _, err := r.attach(ctx, wire.SignIn{Files: &f}, 256<<10)
	if err != nil {
		return nil, nil, reply, err
	}
	_ = conn.SetReadDeadline(streamDeadline(ctx))
	err = readLine(in, &reply)
	_ = conn.SetReadDeadline(time.Time{})
	switch {
	case err != nil:
		r.closeStream(conn)
		return nil, nil, reply, ErrRemoteGone
	case reply.Error != "":
		r.closeStream(conn)
		return nil, nil, reply, pcRefusal(reply.Code, reply.Error)
	}
	return conn, in, reply, nil
}

// readLine reads one JSON line into v.
func readLine(in *bufio.Reader, v any) error {
	line, err := wire.ReadLine(in, wire.MaxFilesLine)
	if err != nil {
		return err
	}
	return json.Unmarshal(line, v)
}

// Drives lists the PC's drives (on Windows each drive letter).
func (r *RemoteSession) Drives(ctx context.Context) ([]wire.Drive, error) {
	conn, _, reply, err := r.filesStream(ctx, wire.Files{Op: wire.FilesDrives})
	if err != nil {
		return nil, err
	}
	r.closeStream(conn)
	for i := range reply.Drives {
		d := &reply.Drives[i] // its Path stays the PC's: it is asked for
		d.Label, d.Kind = wire.CleanShown(d.Label), wire.CleanShown(d.Kind)
	}
	return reply.Drives, nil
}

// List lists a folder of the PC, folders first; the path returned is the
// folder in the PC's spelling.
func (r *RemoteSession) List(ctx context.Context, folder string) (string, []wire.Entry, error) {
	conn, _, reply, err := r.filesStream(ctx, wire.Files{Op: wire.FilesList, Path: folder})
	if err != nil {
		return "", nil, err
	}
	r.closeStream(conn)
	return reply.Path, listed(reply.Entries, runtime.GOOS), nil
}

// listed keeps the entries whose names can be one entry here (on a
// station running on goos) and cleans their names for showing and as a
// download's default name, as chat text is cleaned: a bidi override makes
// "invoice_\u202Efdp.exe" read as a .pdf and save as an .exe. The PC's
// spelling stays in Listed for asking the PC.
func listed(entries []wire.Entry, goos string) []wire.Entry {
	out := entries[:0]
	for _, e := range entries {
		if !oneEntry(e.Name, goos) {
			continue
		}
		if clean := wire.CleanText(e.Name, len(e.Name)); clean != e.Name {
			if clean == "" || !oneEntry(clean, goos) {
				continue
			}
			e.Listed, e.Name = e.Name, clean
		}
		out = append(out, e)
	}
	return out
}

// oneEntry says a name from the PC is one entry of a folder. A name
// becomes the default name of a download here, so one with a separator or
// ".." (which no real folder lists) could write outside the folder chosen;
// control characters (which Windows refuses in names) could disguise it.
// On a Windows station a device name (CON, nul.txt) would save to the
// device, and a trailing dot or space is dropped by Windows, so a
// download would land under another name: those are refused too.
func oneEntry(name, goos string) bool {
	ok := name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\:`) &&
		!strings.ContainsFunc(name, func(c rune) bool { return c < 0x20 || c == 0x7f })
	if !ok || goos != "windows" {
		return ok
	}
	if strings.ContainsAny(name, `<>"|?*`) || strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") {
		return false
	}
	base, _, _ := strings.Cut(name, ".")
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return false
	}
	if len(base) >= 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) &&
		strings.Contains("0123456789¹²³", base[3:]) && utf8.RuneCountInString(base[3:]) == 1 {
		return false
	}
	return true
}

// transferError is what a failure of the stream reads as: cancelled,
// the PC's refusal, or the connection lost.
func transferError(ctx context.Context, err error) error {
	var refused refusal.Refusal
	switch {
	case ctx.Err() != nil:
		return ErrTransferCancelled
	case errors.As(err, &refused):
		return err
	}
	return &refusal.Error{Code: ErrTransferCut.Code, Message: ErrTransferCut.Message, Err: err}
}

// localError says what went wrong with a local file.
func localError(err error, path string) error {
	switch {
	case landing.DiskFull(err):
		return ErrLocalDiskFull
	case errors.Is(err, fs.ErrNotExist):
		return &refusal.Error{Code: ErrLocalFile.Code, Message: fmt.Sprintf("%s does not exist on this computer. Choose another file or folder.", path), Err: err}
	case errors.Is(err, fs.ErrPermission):
		return &refusal.Error{Code: ErrLocalFile.Code, Message: fmt.Sprintf("This computer does not let the station use %s (access denied). Choose another place.", path), Err: err}
	}
	return &refusal.Error{Code: ErrLocalFile.Code, Message: fmt.Sprintf("This computer could not use %s: %v. Choose another place and try again.", path, err), Err: err}
}

// cancelOn stops conn when ctx ends, so a transfer stops at once: the
// deadline ends a read waiting for data (closing a yamux stream only ends
// its writing), the closing tells the PC.
func cancelOn(ctx context.Context, conn net.Conn) func() bool {
	return context.AfterFunc(ctx, func() { abort(conn) })
}

// abort ends conn's reads and writes, even those under way.
func abort(conn net.Conn) {
	_ = conn.SetDeadline(time.Now())
	conn.Close()
}
