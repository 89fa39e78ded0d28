package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"adhocstation/core/refusal"
	"adhocstation/core/wire"
	"adhocstation/core/wire/landing"
)

// finishWait bounds waiting for the PC to check, sync and rename an
// upload once its last byte is sent.
const finishWait = 2 * time.Minute

// Download copies the PC's file remotePath to localPath, replacing it (the
// UI asks first). The bytes go to a hidden file beside localPath, renamed
// over it only once the size and the SHA-256 match the PC's (core/wire/landing);
// on any failure it is removed. progress, if set, is called on Download's goroutine.
// Cancelling ctx stops at once (ErrTransferCancelled). Refusals: the PC's
// (ErrRemoteFileNotFound, ErrRemoteIsAFolder, ErrRemoteFileDenied,
// ErrRemoteFileInUse, …), ErrTransferCut, ErrTransferCorrupt,
// ErrLocalDiskFull, ErrLocalFile, ErrRemoteGone.
func (r *RemoteSession) Download(ctx context.Context, remotePath, localPath string, progress Progress) (err error) {
	rec := Transfer{Remote: remotePath, Local: localPath}
	defer func() { r.recordTransfer(rec, err) }()
	if progress == nil {
		progress = func(int64, int64) {}
	}
	tmp, err := landing.Create(filepath.Dir(localPath), filepath.Base(localPath))
	if err != nil {
		return localError(err, localPath)
	}
	saved := false
	defer func() {
		if !saved {
			_ = tmp.Discard()
		}
	}()
	conn, in, reply, err := r.filesStream(ctx, wire.Files{Op: wire.FilesDownload, Path: remotePath})
	if err != nil {
		return err
	}
	defer r.closeStream(conn)
	defer cancelOn(ctx, conn)()
	progress(0, reply.Size)
	done, digest, readErr, writeErr := wire.ReceiveChunks(tmp, in, reply.Size, func(n int64) { progress(n, reply.Size) })
	switch {
	case errors.Is(readErr, wire.ErrChunksTooLong):
		return ErrTransferCorrupt
	case readErr != nil || ctx.Err() != nil:
		return transferError(ctx, readErr)
	case writeErr != nil:
		return localError(writeErr, localPath)
	}
	var end wire.FilesEnd
	if err := readLine(in, &end); err != nil {
		return transferError(ctx, err)
	}
	switch {
	case end.Error != "":
		return pcRefusal(end.Code, end.Error)
	case done != reply.Size || end.SHA256 != digest:
		return ErrTransferCorrupt
	}
	if err := tmp.Land(localPath, nil); err != nil {
		return localError(err, localPath)
	}
	saved = true
	rec.Size, rec.SHA256 = done, digest
	return nil
}

// Upload copies localPath into the PC's folder remoteFolder as name. The PC
// refuses to replace an existing file (ErrRemoteFileExists) unless
// overwrite is set; it writes a hidden file and renames it only once the
// size and SHA-256 match. Cancelling ctx stops at once
// (ErrTransferCancelled) and the PC removes what it had written. Other
// refusals: the PC's (ErrRemoteFileNotFound, ErrRemoteNotAFolder,
// ErrRemoteDiskFull, ErrRemoteFileDenied, ErrBadFileName, …),
// ErrTransferCut, ErrLocalFile, ErrRemoteGone.
func (r *RemoteSession) Upload(ctx context.Context, localPath, remoteFolder, name string, overwrite bool, progress Progress) (err error) {
	rec := Transfer{Upload: true, Remote: joinRemote(remoteFolder, name), Local: localPath}
	defer func() { r.recordTransfer(rec, err) }()
	if progress == nil {
		progress = func(int64, int64) {}
	}
	file, err := os.Open(localPath)
	if err != nil {
		return localError(err, localPath)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return localError(err, localPath)
	}
	if st.IsDir() {
		return &refusal.Error{Code: ErrLocalFile.Code, Message: fmt.Sprintf("%s is a folder; choose a file to upload.", localPath)}
	}
	size := st.Size()
	conn, in, _, err := r.filesStream(ctx, wire.Files{Op: wire.FilesUpload, Path: remoteFolder, Name: name, Size: size, Overwrite: overwrite})
	if err != nil {
		return err
	}
	defer r.closeStream(conn)
	defer cancelOn(ctx, conn)()
	// The PC's answer may come early (its disk filled up): it then stops
	// reading, so the answer closes the stream to end the sending.
	type answer struct {
		reply wire.FilesReply
		err   error
	}
	final := make(chan answer, 1)
	go func() {
		var a answer
		a.err = readLine(in, &a.reply)
		if a.err != nil || a.reply.Error != "" {
			abort(conn)
		}
		final <- a
	}()
	progress(0, size)
	digest, readErr, sendErr := wire.SendChunks(conn, file, size, func(n int64) { progress(n, size) })
	if ctx.Err() != nil {
		sendErr = ctx.Err()
	}
	if sendErr == nil && readErr == nil {
		b, _ := json.Marshal(wire.FilesEnd{SHA256: digest})
		h := wire.ChunkHeader(0)
		_, sendErr = conn.Write(append(h[:], append(b, '\n')...))
	}
	if readErr != nil || sendErr != nil {
		abort(conn) // the PC removes what it had written
	} else {
		_ = conn.SetReadDeadline(time.Now().Add(finishWait))
	}
	a := <-final
	switch {
	case a.err == nil && a.reply.Error != "":
		return pcRefusal(a.reply.Code, a.reply.Error)
	case readErr != nil:
		return localError(readErr, localPath)
	case sendErr != nil:
		return transferError(ctx, sendErr)
	case a.err != nil:
		return transferError(ctx, a.err)
	case a.reply.Size != size:
		return ErrTransferCorrupt
	}
	rec.Size, rec.SHA256 = size, digest
	return nil
}

// recordTransfer hands a finished transfer to the recording.
func (r *RemoteSession) recordTransfer(t Transfer, err error) {
	t.Err = err
	r.recorder().Transfer(t)
}

// joinRemote is the path of name in the PC's folder, with the folder's own
// separator (Windows' backslash, or the slash a test rig's PC uses).
func joinRemote(folder, name string) string {
	sep := `\`
	if strings.Contains(folder, "/") && !strings.Contains(folder, `\`) {
		sep = "/"
	}
	return strings.TrimRight(folder, sep) + sep + name
}
