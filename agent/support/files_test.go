//go:build !windows

package support_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"adhocstation/core/coretest"
	"adhocstation/core/remote"
)

// randomFile writes size pseudo-random bytes (incompressible, unlike
// zeros) and returns the file's path and SHA-256.
func randomFile(t testing.TB, dir, name string, size int64) (string, [32]byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	src := rand.NewChaCha8([32]byte{byte(size), 7})
	if _, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(src, size)); err != nil {
		t.Fatal(err)
	}
	return path, [32]byte(h.Sum(nil))
}

func fileSum(t testing.TB, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// names lists a folder's entries, to find partial files left behind.
func names(t testing.TB, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

// waitEmpty waits for dir to hold nothing but keep (the PC removes a
// partial upload when it notices the stream ended).
func waitEmpty(t testing.TB, dir string, keep ...string) {
	t.Helper()
	deadline := time.Now().Add(coretest.WaitLimit)
	for {
		var left []string
		for _, n := range names(t, dir) {
			if !strings.Contains(strings.Join(keep, "\n"), n) {
				left = append(left, n)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still holds %q after %v; want no partial file", dir, left, coretest.WaitLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pauseAt is a progress callback that holds the transfer once at bytes,
// until the test lets it go on: the test then acts mid-transfer for sure.
type pauseAt struct {
	bytes   int64
	once    sync.Once
	reached chan struct{}
	goOn    chan struct{}
	last    int64
	total   int64
	mu      sync.Mutex
}

func newPause(bytes int64) *pauseAt {
	return &pauseAt{bytes: bytes, reached: make(chan struct{}, 1), goOn: make(chan struct{})}
}

func (p *pauseAt) progress(done, total int64) {
	p.mu.Lock()
	if done < p.last {
		total = -1 // progress went back: marked for the test to see
	}
	p.last, p.total = done, total
	p.mu.Unlock()
	if done >= p.bytes {
		p.once.Do(func() {
			p.reached <- struct{}{}
			<-p.goOn
		})
	}
}

// TestFilesRoundTrip50MB uploads a 50 MB file to a folder of the PC and
// downloads it back through the live channel: the SHA-256 of both copies
// matches the original, progress ends at the size, the folder lists the
// file (folders first) and no partial file is left on either side.
func TestFilesRoundTrip50MB(t *testing.T) {
	_, rs := connected(t)
	ctx := context.Background()
	local, pc := t.TempDir(), t.TempDir()
	const size = 50 << 20
	src, want := randomFile(t, local, "setup.msi", size)
	if err := os.Mkdir(filepath.Join(pc, "zz folder"), 0o700); err != nil {
		t.Fatal(err)
	}

	up := newPause(size + 1) // never pauses: records progress only
	if err := rs.Upload(ctx, src, pc, "setup.msi", false, up.progress); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if got := fileSum(t, filepath.Join(pc, "setup.msi")); got != want {
		t.Fatal("the PC's copy has another SHA-256 than the original")
	}
	if up.last != size || up.total != size {
		t.Errorf("upload progress ended at %d of %d; want %d of %d", up.last, up.total, size, size)
	}

	path, entries, err := rs.List(ctx, pc+"/")
	if err != nil || path != pc || len(entries) != 2 {
		t.Fatalf("list: %q %+v %v; want the folder and the file", path, entries, err)
	}
	if !entries[0].Folder || entries[0].Name != "zz folder" || entries[1].Name != "setup.msi" || entries[1].Size != size || entries[1].Modified.IsZero() {
		t.Errorf("entries %+v; want the folder first, then setup.msi with its size and time", entries)
	}
	drives, err := rs.Drives(ctx)
	if err != nil || len(drives) != 1 || drives[0].Path != "/" || drives[0].Total == 0 {
		t.Errorf("drives %+v, %v; want / with its size", drives, err)
	}

	back := filepath.Join(local, "copy.msi")
	down := newPause(size + 1)
	if err := rs.Download(ctx, filepath.Join(pc, "setup.msi"), back, down.progress); err != nil {
		t.Fatalf("download: %v", err)
	}
	if got := fileSum(t, back); got != want {
		t.Fatal("the downloaded copy has another SHA-256 than the original")
	}
	if down.last != size || down.total != size {
		t.Errorf("download progress ended at %d of %d; want %d of %d", down.last, down.total, size, size)
	}
	waitEmpty(t, pc, "setup.msi", "zz folder")
	waitEmpty(t, local, "setup.msi", "copy.msi")
}

// TestFilesRefusals: a path that does not exist, a file where a folder is
// wanted and the reverse, a bad name, and an existing file: refused
// without overwrite (left as it was), replaced with it. Each refusal is a
// sentence naming the path, and nothing is left behind.
func TestFilesRefusals(t *testing.T) {
	_, rs := connected(t)
	ctx := context.Background()
	local, pc := t.TempDir(), t.TempDir()
	missing := filepath.Join(pc, "no such folder")
	if _, _, err := rs.List(ctx, missing); !errors.Is(err, remote.ErrRemoteFileNotFound) || !strings.Contains(err.Error(), missing+" does not exist on the PC") {
		t.Errorf("list of a missing folder: %v", err)
	}
	if _, _, err := rs.List(ctx, "Users"); !errors.Is(err, remote.ErrRemoteFileNotFound) || !strings.Contains(err.Error(), `"Users" is not a full path on the PC`) {
		t.Errorf("list of a relative path: %v", err)
	}
	note := filepath.Join(pc, "note.txt")
	if err := os.WriteFile(note, []byte("the user's note"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rs.List(ctx, note); !errors.Is(err, remote.ErrRemoteNotAFolder) || !strings.Contains(err.Error(), "is a file, not a folder") {
		t.Errorf("list of a file: %v", err)
	}
	if err := rs.Download(ctx, pc, filepath.Join(local, "x"), nil); !errors.Is(err, remote.ErrRemoteIsAFolder) {
		t.Errorf("download of a folder: %v", err)
	}
	if err := rs.Download(ctx, filepath.Join(pc, "gone.txt"), filepath.Join(local, "gone.txt"), nil); !errors.Is(err, remote.ErrRemoteFileNotFound) {
		t.Errorf("download of a missing file: %v", err)
	}

	src := filepath.Join(local, "note.txt")
	if err := os.WriteFile(src, []byte("the technician's note"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := rs.Upload(ctx, src, pc, "note.txt", false, nil)
	if !errors.Is(err, remote.ErrRemoteFileExists) || !strings.Contains(err.Error(), note+" already exists on the PC") {
		t.Fatalf("upload over an existing file without overwrite: %v", err)
	}
	if b, _ := os.ReadFile(note); string(b) != "the user's note" {
		t.Fatalf("the refused upload changed the file: %q", b)
	}
	if err := rs.Upload(ctx, src, pc, "note.txt", true, nil); err != nil {
		t.Fatalf("upload with overwrite: %v", err)
	}
	if b, _ := os.ReadFile(note); string(b) != "the technician's note" {
		t.Fatalf("after the overwrite the file holds %q", b)
	}
	if err := rs.Upload(ctx, src, pc, "../note.txt", false, nil); !errors.Is(err, remote.ErrBadFileName) {
		t.Errorf("upload with a name that leaves the folder: %v", err)
	}
	if err := rs.Upload(ctx, src, missing, "note.txt", false, nil); !errors.Is(err, remote.ErrRemoteFileNotFound) {
		t.Errorf("upload into a missing folder: %v", err)
	}
	if err := rs.Upload(ctx, src, note, "x.txt", false, nil); !errors.Is(err, remote.ErrRemoteNotAFolder) {
		t.Errorf("upload into a file: %v", err)
	}
	waitEmpty(t, pc, "note.txt")
	waitEmpty(t, local, "note.txt")
}

// TestFilesDiskFull fills a real 1 MiB tmpfs, mounted by the test (it
// needs root, as CI and this machine run): an upload into it and a
// download into it each fail with the disk-full sentence, and leave the
// tmpfs empty.
func TestFilesDiskFull(t *testing.T) {
	small := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", small).Run() })
	_, rs := connected(t)
	ctx := context.Background()
	src, _ := randomFile(t, t.TempDir(), "big.iso", 4<<20)
	err := rs.Upload(ctx, src, small, "big.iso", false, nil)
	if !errors.Is(err, remote.ErrRemoteDiskFull) || !strings.Contains(err.Error(), "The PC's disk is full") {
		t.Fatalf("upload into a full disk: %v; want ErrRemoteDiskFull", err)
	}
	waitEmpty(t, small)
	err = rs.Download(ctx, src, filepath.Join(small, "big.iso"), nil)
	if !errors.Is(err, remote.ErrLocalDiskFull) || !strings.Contains(err.Error(), "This computer's disk is full") {
		t.Fatalf("download into a full disk: %v; want ErrLocalDiskFull", err)
	}
	waitEmpty(t, small)
}

// TestFilesAccessDenied uploads into a folder marked immutable (chattr
// +i), which refuses new files even to root, as this machine and CI run:
// the PC's denial comes back as the access-denied sentence, and the file
// to upload is not written anywhere.
func TestFilesAccessDenied(t *testing.T) {
	locked := t.TempDir()
	if out, err := exec.Command("chattr", "+i", locked).CombinedOutput(); err != nil {
		t.Skipf("cannot make a folder immutable here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", locked).Run() })
	_, rs := connected(t)
	src, _ := randomFile(t, t.TempDir(), "notes.txt", 1000)
	err := rs.Upload(context.Background(), src, locked, "notes.txt", false, nil)
	if !errors.Is(err, remote.ErrRemoteFileDenied) || !strings.Contains(err.Error(), "The support account may not open "+filepath.Join(locked, "notes.txt")+" (access denied)") {
		t.Fatalf("upload into a folder that refuses it: %v; want ErrRemoteFileDenied", err)
	}
	if n := names(t, locked); len(n) != 0 {
		t.Errorf("the refused folder holds %q", n)
	}
}

// TestFilesCancel cancels an upload and a download mid-transfer: each
// says it was cancelled and leaves no file, partial or final.
func TestFilesCancel(t *testing.T) {
	r, rs := connected(t)
	local, pc := t.TempDir(), t.TempDir()
	src, _ := randomFile(t, local, "video.mp4", 20<<20)

	ctx, cancel := context.WithCancel(context.Background())
	p := newPause(4 << 20)
	done := make(chan error, 1)
	go func() { done <- rs.Upload(ctx, src, pc, "video.mp4", false, p.progress) }()
	coretest.Receive(t, p.reached, "the upload to reach 4 MiB")
	if n := names(t, pc); len(n) != 1 || !strings.HasPrefix(n[0], "~video.mp4.") || !strings.HasSuffix(n[0], ".adhoc-partial") {
		t.Errorf("during the upload the PC's folder holds %q; want only the hidden partial file", n)
	}
	cancel()
	close(p.goOn)
	if err := coretest.Receive(t, done, "the cancelled upload to end"); !errors.Is(err, remote.ErrTransferCancelled) {
		t.Fatalf("cancelled upload: %v", err)
	}
	waitEmpty(t, pc)

	ctx, cancel = context.WithCancel(context.Background())
	p = newPause(4 << 20)
	go func() { done <- rs.Download(ctx, src, filepath.Join(pc, "video.mp4"), p.progress) }()
	coretest.Receive(t, p.reached, "the download to reach 4 MiB")
	cancel()
	close(p.goOn)
	if err := coretest.Receive(t, done, "the cancelled download to end"); !errors.Is(err, remote.ErrTransferCancelled) || err.Error() != "The transfer was cancelled; nothing was saved." {
		t.Fatalf("cancelled download: %v", err)
	}
	waitEmpty(t, pc)
	// The PC stops sending rather than wait for window the station no
	// longer gives.
	deadline := time.Now().Add(coretest.WaitLimit)
	for !strings.Contains(r.log.String(), "a download stopped: the station closed its stream") {
		if time.Now().After(deadline) {
			t.Fatalf("the PC never stopped sending the cancelled download:\n%s", r.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(r.log.String(), "an upload to "+filepath.Join(pc, "video.mp4")+" stopped before its end") {
		t.Errorf("the PC's log does not say the upload stopped:\n%s", r.log.String())
	}
	if _, err := rs.System(context.Background()); err != nil {
		t.Errorf("the remote session after the cancels: %v", err)
	}
}

// TestFilesConnectionCut closes the live channel's TCP connection in the
// middle of an upload, then of a download: each ends with the lost
// connection's sentence, and neither side keeps a partial file or a file
// under the final name.
func TestFilesConnectionCut(t *testing.T) {
	r := newRig(t, windowsPC, nil, rightCode)
	cable := r.via(newCutter(t, r.srv.Addr().String()))
	r.start()
	r.waitOnline(true)
	local, pc := t.TempDir(), t.TempDir()
	src, _ := randomFile(t, local, "video.mp4", 20<<20)

	for _, dir := range []string{"upload", "download"} {
		rs := connectSoon(t, r, dir)
		relayed := cable.relayed()
		p := newPause(4 << 20)
		done := make(chan error, 1)
		go func() {
			if dir == "upload" {
				done <- rs.Upload(context.Background(), src, pc, "video.mp4", false, p.progress)
			} else {
				done <- rs.Download(context.Background(), filepath.Join(local, "video.mp4"), filepath.Join(pc, "video.mp4"), p.progress)
			}
		}()
		coretest.Receive(t, p.reached, "the "+dir+" to reach 4 MiB")
		cable.drop()
		close(p.goOn)
		err := coretest.Receive(t, done, "the cut "+dir+" to end")
		if !errors.Is(err, remote.ErrTransferCut) || !strings.Contains(err.Error(), "The connection to the PC was lost during the transfer") {
			t.Fatalf("%s over a cut connection: %v; want ErrTransferCut", dir, err)
		}
		rs.Close()
		waitEmpty(t, pc)
		waitEmpty(t, local, "video.mp4")
		// The PC reconnects by itself, at once: its new channel may open
		// before the station has counted the cut one closed, so the PC
		// need not be seen offline in between.
		deadline := time.Now().Add(coretest.WaitLimit)
		for cable.relayed() == relayed {
			if time.Now().After(deadline) {
				t.Fatalf("the PC did not reconnect within %v after the cut %s", coretest.WaitLimit, dir)
			}
			time.Sleep(10 * time.Millisecond)
		}
		r.waitOnline(true)
	}
	if b, err := os.ReadFile(src); err != nil || len(b) != 20<<20 {
		t.Errorf("the original changed: %d bytes, %v", len(b), err)
	}
}

// connectSoon connects to the rig's PC, trying again while the station
// still holds a channel the cut closed (Connect then finds it gone).
func connectSoon(t *testing.T, r *rig, before string) *remote.RemoteSession {
	t.Helper()
	deadline := time.Now().Add(coretest.WaitLimit)
	for {
		rs, err := r.st.Connect(context.Background(), r.prep.Session.ID, coretest.Password)
		if err == nil {
			return rs
		}
		if time.Now().After(deadline) {
			t.Fatalf("connect before the %s: %v", before, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// drop closes the relayed connections, as a router restarting does: both
// ends see the connection end.
func (c *cutter) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

// BenchmarkFilesUpload and BenchmarkFilesDownload move a 64 MiB file over
// loopback through the whole path: TLS, yamux, SHA-256 on both ends, the
// partial file synced and renamed. MB/s counts the file's bytes.
func BenchmarkFilesUpload(b *testing.B)   { benchmarkFiles(b, true) }
func BenchmarkFilesDownload(b *testing.B) { benchmarkFiles(b, false) }

func benchmarkFiles(b *testing.B, up bool) {
	_, rs := connected(b)
	ctx := context.Background()
	local, pc := b.TempDir(), b.TempDir()
	const size = 64 << 20
	src, _ := randomFile(b, local, "big.bin", size)
	b.SetBytes(size)
	for b.Loop() {
		var err error
		if up {
			err = rs.Upload(ctx, src, pc, "big.bin", true, nil)
		} else {
			err = rs.Download(ctx, src, filepath.Join(pc, "big.bin"), nil)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
