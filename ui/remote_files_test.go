//go:build !windows

package ui

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

// filesTestOpen connects as remoteTestOpen does and opens the Files tab,
// which lists the PC's first drive.
func filesTestOpen(t *testing.T) (*remoteWindow, *workWatch) {
	t.Helper()
	_, _, r, watch := remoteTestOpen(t)
	tabs := findAll[*container.AppTabs](r.win.Content())
	if len(tabs) != 1 {
		t.Fatalf("%d tab bars in the remote window", len(tabs))
	}
	for i, item := range tabs[0].Items {
		if item.Text == "Files" {
			watch.during(t, jobFilesList, func() { tabs[0].SelectIndex(i) })
			return r, watch
		}
	}
	t.Fatal("the remote window has no Files tab")
	return nil, nil
}

// fileRowNamed finds the list row showing name.
func fileRowNamed(t *testing.T, f *filesTab, name string) *fileRow {
	t.Helper()
	for _, r := range findAll[*fileRow](f.list) {
		if r.Visible() && r.name.Text == name {
			return r
		}
	}
	t.Fatalf("no row shows %q", name)
	return nil
}

// The Files tab lists the PC's drive, browses into a folder by double tap
// and by the path bar, goes up; downloads a file with progress to the end
// (asking before replacing a file here), uploads over a file of the PC
// only after asking, and shows a refusal's sentence in the tab.
func TestRemoteFilesTab(t *testing.T) {
	r, watch := filesTestOpen(t)
	f := r.files
	if f.folder != "/" || len(f.drives.Options) != 1 || !strings.HasPrefix(f.drives.Selected, "/ (fixed, ") || !strings.HasSuffix(f.drives.Selected, " free)") {
		t.Fatalf("first listing: folder %q, drives %q (%q); want / with its kind and free space", f.folder, f.drives.Options, f.drives.Selected)
	}
	// The chosen drive reads whole: the choice is at least as wide as
	// its label's text (before, it was cut to "/ (fix…").
	if text := widget.NewLabel(f.drives.Selected).MinSize().Width; f.drives.Size().Width < text {
		t.Errorf("the drive choice is %.0f wide, its label %q needs %.0f", f.drives.Size().Width, f.drives.Selected, text)
	}

	pc, local := t.TempDir(), t.TempDir()
	content := make([]byte, 3<<20)
	_, _ = rand.Read(content)
	if err := os.Mkdir(filepath.Join(pc, "docs"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pc, "docs", "report.bin"), content, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pc, "a.txt"), []byte("hi"), 0o600); err != nil {
		t.Fatal(err)
	}

	f.path.SetText(pc)
	watch.during(t, jobFilesList, func() { f.path.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) })
	if f.folder != pc || len(f.entries) != 2 || f.entries[0].Name != "docs" {
		t.Fatalf("after Enter in the path bar: %q %+v; want %s with docs first", f.folder, f.entries, pc)
	}
	if row := fileRowNamed(t, f, "a.txt"); row.size.Text != "2 B" || row.modified.Text == "" {
		t.Errorf("a.txt shows size %q, modified %q", row.size.Text, row.modified.Text)
	}
	watch.during(t, jobFilesList, func() { test.DoubleTap(fileRowNamed(t, f, "docs")) })
	if f.folder != filepath.Join(pc, "docs") || f.path.Text != f.folder {
		t.Fatalf("a double tap on docs shows %q (path bar %q)", f.folder, f.path.Text)
	}
	row := fileRowNamed(t, f, "report.bin")
	if row.size.Text != "3.0 MB" {
		t.Errorf("report.bin shows %q; want 3.0 MB", row.size.Text)
	}
	watch.during(t, jobFilesList, func() { test.Tap(f.up) })
	if f.folder != pc {
		t.Fatalf("Up shows %q; want %q", f.folder, pc)
	}
	watch.during(t, jobFilesList, func() { test.DoubleTap(fileRowNamed(t, f, "docs")) })

	// Download: the dialog proposes the PC's name; the file arrives whole.
	if !f.download.Disabled() {
		t.Fatal("Download is enabled with nothing selected")
	}
	test.Tap(fileRowNamed(t, f, "report.bin"))
	if f.download.Disabled() {
		t.Fatal("Download stays disabled with a file selected")
	}
	download := func() fyne.CanvasObject {
		test.Tap(f.download)
		dlg := r.win.Canvas().Overlays().Top()
		entries := findAll[*widget.Entry](dlg)
		if dlg == nil || len(entries) != 2 || entries[1].Text != "report.bin" {
			t.Fatalf("Download… shows %v with %d entries; want a folder and the name report.bin", dlg, len(entries))
		}
		entries[0].SetText(local)
		return dlg
	}
	dlg := download()
	watch.during(t, jobTransfer, func() { test.Tap(findButton(t, dlg, "Download")) })
	saved := filepath.Join(local, "report.bin")
	if got, err := os.ReadFile(saved); err != nil || !bytes.Equal(got, content) {
		t.Fatalf("the downloaded file differs from the PC's (%v)", err)
	}
	tr := findAll[*widget.ProgressBar](f.transfers)
	speeds := findAll[*widget.Label](f.transfers)
	if len(tr) != 1 || tr[0].Value != 1 || !slices.ContainsFunc(speeds, func(l *widget.Label) bool { return strings.HasSuffix(l.Text, " MB/s") }) ||
		!slices.ContainsFunc(speeds, func(l *widget.Label) bool { return l.Text == "Saved to "+saved }) {
		t.Fatalf("the transfer shows bars %v; want one full bar, a speed and where it was saved", tr)
	}

	// Replacing a file here asks first; Keep it starts nothing.
	dlg = download()
	test.Tap(findButton(t, dlg, "Download"))
	ask := r.win.Canvas().Overlays().Top()
	if ask == nil || !slices.ContainsFunc(findAll[*widget.Label](ask), func(l *widget.Label) bool { return strings.Contains(l.Text, "report.bin already exists in "+local) }) {
		t.Fatal("downloading over a file of this computer did not ask first, naming it")
	}
	test.Tap(findButton(t, ask, "Keep it"))
	if n := len(f.transfers.Objects); n != 1 {
		t.Fatalf("%d transfers after Keep it; want still one", n)
	}
	test.Tap(findButton(t, findAll[*fyne.Container](f.transfers)[0], "Dismiss"))
	if len(f.transfers.Objects) != 0 {
		t.Fatal("Dismiss left the ended transfer on screen")
	}

	// Cancel stops a transfer (here before its first byte: the work is
	// held until the taps are done) and leaves nothing behind.
	dlg = download()
	findAll[*widget.Entry](dlg)[1].SetText("copy.bin")
	watch.during(t, jobTransfer, func() {
		test.Tap(findButton(t, dlg, "Download"))
		test.Tap(findButton(t, f.transfers.Objects[0], "Cancel"))
	})
	if !slices.ContainsFunc(findAll[*widget.Label](f.transfers), func(l *widget.Label) bool { return l.Text == "The transfer was cancelled; nothing was saved." }) {
		t.Error("a cancelled transfer does not say so")
	}
	if left, _ := os.ReadDir(local); len(left) != 1 {
		t.Errorf("after the cancel this computer's folder holds %d files; want only report.bin", len(left))
	}
	test.Tap(findButton(t, f.transfers.Objects[0], "Dismiss"))

	// Uploading over a file of the PC asks first; Replace replaces it.
	changed := filepath.Join(local, "report.bin")
	if err := os.WriteFile(changed, []byte("a new report"), 0o600); err != nil {
		t.Fatal(err)
	}
	watch.during(t, jobTransfer, func() { f.startUpload(changed, f.folder, "report.bin", false) })
	ask = r.win.Canvas().Overlays().Top()
	if ask == nil || !slices.ContainsFunc(findAll[*widget.Label](ask), func(l *widget.Label) bool {
		return strings.Contains(l.Text, "report.bin already exists in "+f.folder+" on the PC")
	}) {
		t.Fatal("uploading over a file of the PC did not ask first, naming it")
	}
	watch.during(t, jobTransfer, func() { test.Tap(findButton(t, ask, "Replace")) })
	watch.wait(t, jobFilesList) // the folder is listed again after an upload into it
	if got, _ := os.ReadFile(filepath.Join(pc, "docs", "report.bin")); string(got) != "a new report" {
		t.Fatalf("after Replace the PC's file holds %d bytes; want the new report", len(got))
	}
	test.Tap(f.upload)
	if r.win.Canvas().Overlays().Top() == nil {
		t.Fatal("Upload… did not open a file dialog")
	}
	test.Tap(findButton(t, r.win.Canvas().Overlays().Top(), "Cancel"))

	// A refusal is shown in the tab; the listing stays.
	missing := filepath.Join(pc, "nowhere")
	f.path.SetText(missing)
	watch.during(t, jobFilesList, func() { f.path.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) })
	if !labelShown(f.status) || !strings.Contains(f.status.Text, missing+" does not exist on the PC") || f.path.Text != filepath.Join(pc, "docs") {
		t.Fatalf("a missing folder: status %q (shown %v), path bar %q", f.status.Text, f.status.Visible(), f.path.Text)
	}

	for _, size := range []fyne.Size{fitTestScreen, fitTestMax} {
		r.win.Resize(size)
		if min := r.win.Content().MinSize(); min.Width > fitTestMax.Width || min.Height > fitTestMax.Height {
			t.Errorf("the remote window on the Files tab asks for at least %v, more than %v", min, fitTestMax)
		}
		for _, o := range []fyne.CanvasObject{f.download, f.upload, f.refresh, f.path} {
			if !fitTestOnScreen(r.win.Canvas(), o) {
				t.Errorf("at %v a control of the Files tab is off screen", size)
			}
		}
	}
	r.win.Close()
}

// The PC's paths are joined and walked up the PC's way, whatever this
// computer's separator.
func TestPCPaths(t *testing.T) {
	for _, c := range [][3]string{
		{`C:\`, "Users", `C:\Users`}, {`C:\Users\anna`, "x", `C:\Users\anna\x`}, {"/", "home", "/home"}, {"/home/anna", "x", "/home/anna/x"},
	} {
		if got := pcJoin(c[0], c[1]); got != c[2] {
			t.Errorf("pcJoin(%q, %q) = %q; want %q", c[0], c[1], got, c[2])
		}
	}
	if got := driveLabel(wire.Drive{Path: `C:\`, Label: "Windows", Kind: "fixed", Total: 475 << 30, Free: 212 << 30}); got != `C:\ Windows (fixed, 212.0 GB free)` {
		t.Errorf("a fixed drive reads %q", got)
	}
	if got := driveLabel(wire.Drive{Path: `E:\`, Kind: "removable"}); got != `E:\ (removable)` {
		t.Errorf("a card reader without a card reads %q", got)
	}
	for from, want := range map[string]string{`C:\Users\anna`: `C:\Users`, `C:\Users`: `C:\`, `C:\`: `C:\`, "/home/anna": "/home", "/home": "/", "/": "/", `\\srv\share\x`: `\\srv\share`} {
		if got := pcParent(from); got != want {
			t.Errorf("pcParent(%q) = %q; want %q", from, got, want)
		}
	}
}

// At the window's default size a new transfer's bar and Cancel are in
// sight, however many finished transfers are listed: the newest is on top.
func TestRemoteFilesNewTransferInSight(t *testing.T) {
	r, _ := filesTestOpen(t)
	f := r.files
	r.win.Resize(fyne.NewSize(760, 560))
	for i := range 3 {
		tr := f.addTransfer(fmt.Sprintf("↓ old-%d.bin", i), 1<<20)
		tr.finish(nil, "Saved to /tmp/old.bin")
	}
	tr := f.addTransfer("↓ new.bin", 1<<20)
	for _, o := range []fyne.CanvasObject{tr.bar, tr.button} {
		if !fitTestOnScreen(r.win.Canvas(), o) {
			t.Errorf("after three finished transfers the new one's %T is out of sight", o)
		}
	}
	if tr.button.Text != "Cancel" {
		t.Errorf("the new transfer's button says %q", tr.button.Text)
	}
	r.win.Close()
}

// The Files tab of a new window of the same session opens the folder the
// last one showed (for the station's run), not the first drive again.
func TestRemoteFilesFolderRemembered(t *testing.T) {
	_, s, r, watch := remoteTestOpen(t)
	files := func(r *remoteWindow) *filesTab {
		t.Helper()
		for _, ti := range r.tabs.Items {
			if ti.Text == "Files" {
				watch.during(t, jobFilesList, func() { r.tabs.Select(ti) })
			}
		}
		return r.files
	}
	dir := t.TempDir()
	f := files(r)
	f.path.SetText(dir)
	watch.during(t, jobFilesList, func() { f.path.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) })
	r.win.Close()

	remoteTestConnect(t, s, watch, coretest.Password)
	watch.wait(t, jobSystem)
	if len(s.remotes) != 1 {
		t.Fatalf("%d remote windows after connecting again; want one", len(s.remotes))
	}
	r = s.remotes[0]
	if f := files(r); f.folder != dir || f.path.Text != dir {
		t.Errorf("after connecting again the Files tab shows %q (path bar %q); want %q", f.folder, f.path.Text, dir)
	}
	r.win.Close()
}
