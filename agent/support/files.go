package support

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"adhocstation/core/wire"
	"adhocstation/core/wire/landing"
)

// The Files tab's PC side: each operation on its own stream attached to a
// signed-in remote session. Files are opened, created, renamed and listed
// as the account that signed in (AsAccount), so the technician reaches what
// that account may reach, not everything the service (SYSTEM) could.

// AsAccount is a Logon that can act as its account in this process: on
// Windows it impersonates the sign-in's token on a locked OS thread while
// fn runs. A Logon without it (the Linux test recorder) touches files as
// this process.
type AsAccount interface {
	AsAccount(fn func() error) error
}

// asAccount runs fn as logon's account when it can.
func asAccount(logon Logon, fn func() error) error {
	if as, ok := logon.(AsAccount); ok {
		return as.AsAccount(fn)
	}
	return fn()
}

// fileError is a failure with the sentence and code the station shows.
type fileError struct{ code, text string }

func (e *fileError) Error() string { return e.text }

// explain turns an os error about path into the technician's sentence.
func explain(err error, path string) *fileError {
	var fe *fileError
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.Is(err, fs.ErrNotExist):
		return &fileError{wire.CodeFileNotFound, fmt.Sprintf("%s does not exist on the PC. Check the path, or go up a folder and look.", path)}
	case landing.DiskFull(err):
		return &fileError{wire.CodeDiskFull, fmt.Sprintf("The PC's disk is full: %s could not be written. Free some space on that drive (or choose another) and try again.", path)}
	case inUse(err):
		return &fileError{wire.CodeFileInUse, fmt.Sprintf("%s is in use by another program on the PC. Close that program (or wait for it) and try again.", path)}
	case errors.Is(err, fs.ErrPermission):
		return &fileError{wire.CodeFileDenied, fmt.Sprintf("The support account may not open %s (access denied). Choose another place, or change the permissions with a command.", path)}
	}
	return &fileError{wire.CodeFileFailed, fmt.Sprintf("The PC could not use %s: %v.", path, err)}
}

// serveFiles does the file operation of a stream attached to a remote
// session; a failure is told to the station as a sentence.
func (a *App) serveFiles(conn net.Conn, r *bufio.Reader, logon Logon, f wire.Files, who string) {
	enc := json.NewEncoder(conn)
	_ = conn.SetDeadline(time.Time{})
	if enc.Encode(wire.SignInResult{OK: true}) != nil {
		return
	}
	var err error
	switch f.Op {
	case wire.FilesDrives:
		var d []wire.Drive
		if d, err = listDrives(); err == nil {
			a.note(wire.ActivityDrives, noteDrives(who))
			err = enc.Encode(wire.FilesReply{Drives: d})
		}
	case wire.FilesList:
		var out wire.FilesReply
		err = asAccount(logon, func() error {
			out, err = listFolder(f.Path)
			return err
		})
		if err == nil {
			a.note(wire.ActivityList, noteList(who, out.Path, len(out.Entries)))
			err = enc.Encode(out)
		}
	case wire.FilesDownload:
		err = a.sendFile(conn, r, logon, f.Path, who)
	case wire.FilesUpload:
		err = a.receiveFile(conn, r, logon, f, who)
	default:
		err = &fileError{wire.CodeFileFailed, "This version of the Support Session app does not know the file operation " + f.Op + "."}
	}
	var fe *fileError
	if errors.As(err, &fe) {
		_ = enc.Encode(wire.FilesReply{Error: fe.text, Code: fe.code})
	}
}

// fullPath cleans a path the technician gave: it must be absolute, since
// a relative one would be taken from the service's working folder; a bare
// drive (C:) means its root.
func fullPath(path string) (string, error) {
	// The Win32 device namespace reaches disks, volumes and pipes
	// themselves (\\.\PhysicalDrive0), not files: nothing the tab is for;
	// nor is the NT object namespace's \??\, which Go takes as a volume.
	sep := func(i int) bool { return path[i] == '\\' || path[i] == '/' }
	if len(path) >= 4 && sep(0) && sep(3) && (sep(1) && (path[2] == '.' || path[2] == '?') || path[1] == '?' && path[2] == '?') {
		return "", &fileError{wire.CodeFileNotFound, fmt.Sprintf(`%s is a device path; the Files tab opens files and folders. Start the path with a drive, like C:\Users.`, path)}
	}
	if v := filepath.VolumeName(path); v != "" && v == path {
		path += string(filepath.Separator)
	}
	if !filepath.IsAbs(path) {
		return "", &fileError{wire.CodeFileNotFound, fmt.Sprintf(`"%s" is not a full path on the PC. Start it with a drive, like C:\Users.`, path)}
	}
	return filepath.Clean(path), nil
}

// listFolder lists path's entries, folders first, each group by name.
func listFolder(path string) (wire.FilesReply, error) {
	path, err := fullPath(path)
	if err != nil {
		return wire.FilesReply{}, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return wire.FilesReply{}, explain(err, path)
	}
	if !st.IsDir() {
		return wire.FilesReply{}, &fileError{wire.CodeNotAFolder, fmt.Sprintf("%s is a file, not a folder. Download it, or open the folder it is in.", path)}
	}
	des, err := os.ReadDir(path)
	if err != nil && len(des) == 0 {
		return wire.FilesReply{}, explain(err, path)
	}
	out := wire.FilesReply{Path: path, Entries: make([]wire.Entry, 0, len(des))}
	for _, de := range des {
		info, err := de.Info()
		if err != nil {
			continue // gone since the folder was read
		}
		out.Entries = append(out.Entries, wire.Entry{Name: de.Name(), Folder: info.IsDir(), Size: info.Size(), Modified: info.ModTime().UTC()})
	}
	slices.SortFunc(out.Entries, func(x, y wire.Entry) int {
		if x.Folder != y.Folder {
			if x.Folder {
				return -1
			}
			return 1
		}
		return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
	})
	return out, nil
}

// sendFile sends a file's size, its bytes in chunks and their SHA-256.
// The station closing the stream stops it.
func (a *App) sendFile(conn net.Conn, r *bufio.Reader, logon Logon, path, who string) error {
	path, err := fullPath(path)
	if err != nil {
		return err
	}
	var file *os.File
	err = asAccount(logon, func() (err error) {
		file, err = os.Open(path)
		return err
	})
	if err != nil {
		return explain(err, path)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return explain(err, path)
	}
	if st.IsDir() {
		return &fileError{wire.CodeIsAFolder, fmt.Sprintf("%s is a folder: open it and choose a file to download.", path)}
	}
	enc := json.NewEncoder(conn)
	if err := enc.Encode(wire.FilesReply{Path: path, Size: st.Size()}); err != nil {
		return err
	}
	a.note(wire.ActivityDownload, noteDownload(who, path, st.Size()))
	// The station sends nothing more: its closing (a cancel) ends the
	// stream here too, or a write would wait for window it never gives.
	go func() {
		_, _ = r.ReadByte()
		conn.Close()
	}()
	digest, readErr, writeErr := wire.SendChunks(conn, file, st.Size(), func(int64) {})
	switch {
	case writeErr != nil:
		a.Log.Printf("a download stopped: the station closed its stream")
		return writeErr
	case errors.Is(readErr, wire.ErrFileShorter):
		return a.endChunks(conn, wire.FilesEnd{Error: fmt.Sprintf("%s got shorter while it was sent; download it again.", path), Code: wire.CodeFileFailed})
	case readErr != nil:
		fe := explain(readErr, path)
		return a.endChunks(conn, wire.FilesEnd{Error: fe.text, Code: fe.code})
	}
	return a.endChunks(conn, wire.FilesEnd{SHA256: digest})
}

// endChunks sends the zero-length chunk and the end line.
func (a *App) endChunks(conn net.Conn, end wire.FilesEnd) error {
	h := wire.ChunkHeader(0)
	b, _ := json.Marshal(end)
	_, err := conn.Write(append(h[:], append(b, '\n')...))
	return err
}

// validName refuses a name that is not one plain file of a folder as
// Windows sees it: a separator, ':' (an alternate data stream of another
// file), the characters Windows refuses, a trailing dot or space (trimmed,
// so the file written would not be the one checked), or a device name
// (CON, NUL.txt, COM1 open the device in any folder).
func validName(name string) bool {
	if name == "" || name == "." || name == ".." || filepath.Base(name) != name ||
		strings.ContainsAny(name, `/\:<>"|?*`) || strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") {
		return false
	}
	for _, c := range name {
		if c < 0x20 {
			return false
		}
	}
	stem, _, _ := strings.Cut(name, ".")
	switch stem = strings.ToUpper(strings.TrimRight(stem, " ")); stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return false
	}
	r := []rune(stem)
	return len(r) != 4 || (string(r[:3]) != "COM" && string(r[:3]) != "LPT") || !strings.ContainsRune("0123456789¹²³", r[3])
}

// receiveFile writes an upload under a hidden temporary name in the
// folder, checks its size and SHA-256, syncs it and only then renames it
// over the final name. Any failure, or the stream closing, removes it.
func (a *App) receiveFile(conn net.Conn, r *bufio.Reader, logon Logon, f wire.Files, who string) error {
	folder, err := fullPath(f.Path)
	if err != nil {
		return err
	}
	if !validName(f.Name) {
		return &fileError{wire.CodeBadName, fmt.Sprintf("%q cannot be a file's name on the PC. Rename the file and upload it again.", f.Name)}
	}
	final := filepath.Join(folder, f.Name)
	replaced := false
	var tmp *landing.File
	err = asAccount(logon, func() error {
		st, err := os.Stat(folder)
		switch {
		case err != nil:
			return explain(err, folder)
		case !st.IsDir():
			return &fileError{wire.CodeNotAFolder, fmt.Sprintf("%s is a file, not a folder: upload into a folder.", folder)}
		}
		if st, err := os.Stat(final); err == nil {
			if st.IsDir() {
				return &fileError{wire.CodeIsAFolder, fmt.Sprintf("%s is a folder on the PC; a file cannot replace it. Rename the file and upload it again.", final)}
			}
			if !f.Overwrite {
				return &fileError{wire.CodeFileExists, fmt.Sprintf("%s already exists on the PC. Choose to replace it, or rename the file.", final)}
			}
			replaced = true
		}
		tmp, err = landing.Create(folder, f.Name)
		if err != nil {
			return explain(err, final)
		}
		return nil
	})
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			_ = asAccount(logon, tmp.Discard)
		}
	}()
	enc := json.NewEncoder(conn)
	if err := enc.Encode(wire.FilesReply{Path: final}); err != nil {
		return err
	}
	// More bytes than announced would only fill the PC's disk: the
	// receiving stops at the size.
	got, digest, readErr, writeErr := wire.ReceiveChunks(tmp, r, f.Size, func(int64) {})
	switch {
	case writeErr != nil:
		a.Log.Printf("an upload to %s failed: %v", final, writeErr)
		return explain(writeErr, final)
	case errors.Is(readErr, wire.ErrChunksTooLong):
		a.Log.Printf("an upload to %s sent more than its %d bytes; the partial file was removed", final, f.Size)
		return &fileError{wire.CodeChecksum, fmt.Sprintf("The station sent more than the %d bytes it announced for %s; nothing was saved. Upload it again.", f.Size, final)}
	case readErr != nil:
		a.Log.Printf("an upload to %s stopped before its end (%v); the partial file was removed", final, readErr)
		return readErr
	}
	line, err := wire.ReadLine(r, wire.MaxStreamLine)
	var end wire.FilesEnd
	if err != nil || json.Unmarshal(line, &end) != nil {
		return &fileError{wire.CodeFileFailed, "The station's upload ended without its checksum; upload it again."}
	}
	switch {
	case end.Error != "":
		return &fileError{end.Code, end.Error}
	case got != f.Size || end.SHA256 != digest:
		return &fileError{wire.CodeChecksum, fmt.Sprintf("The bytes the PC received for %s do not match the file (%d of %d bytes, checksum differs); nothing was saved. Upload it again.", final, got, f.Size)}
	}
	err = asAccount(logon, func() error {
		return tmp.Land(final, func() error {
			if _, err := os.Stat(final); err == nil && !f.Overwrite {
				return &fileError{wire.CodeFileExists, fmt.Sprintf("%s appeared on the PC during the upload. Choose to replace it, or rename the file.", final)}
			}
			return nil
		})
	})
	if err != nil {
		return explain(err, final)
	}
	done = true
	a.Log.Printf("a technician uploaded %s (%d bytes)", final, got)
	a.note(wire.ActivityUpload, noteUpload(who, final, got, replaced))
	return enc.Encode(wire.FilesReply{Path: final, Size: got, SHA256: digest})
}
