package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core/refusal"
	"adhocstation/core/remote"
	"adhocstation/core/wire"
)

// The Files tab: the PC's drives and folders as the support account sees
// them, Download… and Upload…, and the transfers under way, each with its
// progress, speed and Cancel.

// Job names of the Files tab.
const (
	jobFilesList        = "files list"        // a folder (or the drives) is on screen
	jobTransfer         = "transfer"          // a transfer ended
	jobTransferProgress = "transfer progress" // a transfer's progress is on screen
)

// progressEvery is how often a transfer's bar is redrawn at most.
const progressEvery = 100 * time.Millisecond

type filesTab struct {
	rs   *remote.RemoteSession
	win  fyne.Window
	work *background

	path      *widget.Entry
	drives    *widget.Select
	up        *widget.Button
	refresh   *widget.Button
	list      *widget.List
	download  *widget.Button
	upload    *widget.Button
	status    *widget.Label
	transfers *fyne.Container // newest first
	// transferScroll holds transfers; it shows two rows.
	transferScroll *container.Scroll

	folder   string // the folder listed, in the PC's spelling
	entries  []wire.Entry
	selected int // index into entries, or -1
	// localDir is where Download… and Upload… start on this computer.
	localDir string
	loaded   bool // the drives were asked for
	// drivePaths maps the drive choice's labels to the drives' paths.
	drivePaths map[string]string
	// driveWidth holds the drive choice as wide as its longest label, so
	// the chosen drive reads whole (it was cut to "/ (fix…").
	driveWidth *fixedWidth
	driveBox   *fyne.Container
	bar        *fyne.Container // lays the drive choice out again at its new width
	// start is the folder listed first ("": the first drive), the one an
	// earlier window of the session left; moved is told each folder shown.
	start string
	moved func(folder string)
}

func newFilesTab(rs *remote.RemoteSession, win fyne.Window, work *background) (*filesTab, fyne.CanvasObject) {
	f := &filesTab{rs: rs, win: win, work: work, selected: -1}
	f.localDir, _ = os.UserHomeDir()
	f.path = &widget.Entry{PlaceHolder: `A folder of the PC, e.g. C:\Users`, OnSubmitted: f.open}
	f.drives = widget.NewSelect(nil, func(label string) {
		if d := f.drivePaths[label]; d != "" && d != f.folder {
			f.open(d)
		}
	})
	f.drives.PlaceHolder = "Drive"
	f.up = &widget.Button{Text: "Up", Icon: theme.MoveUpIcon(), OnTapped: func() { f.open(pcParent(f.folder)) }}
	f.refresh = &widget.Button{Text: "Refresh", Icon: theme.ViewRefreshIcon(), OnTapped: func() { f.open(f.path.Text) }}
	f.list = widget.NewList(func() int { return len(f.entries) }, func() fyne.CanvasObject { return newFileRow(f) }, f.updateRow)
	f.list.OnSelected = func(id widget.ListItemID) {
		f.selected = id
		f.download.Enable()
	}
	f.list.OnUnselected = func(widget.ListItemID) {
		f.selected = -1
		f.download.Disable()
	}
	f.download = &widget.Button{Text: "Download…", Icon: theme.DownloadIcon(), OnTapped: f.onDownload}
	f.download.Disable()
	f.upload = &widget.Button{Text: "Upload…", Icon: theme.UploadIcon(), OnTapped: f.onUpload}
	f.status = &widget.Label{Wrapping: fyne.TextWrapWord, Importance: widget.DangerImportance}
	f.status.Hide()
	f.transfers = container.NewVBox()
	f.driveWidth = &fixedWidth{}
	f.driveBox = container.New(f.driveWidth, f.drives)
	bar := container.NewBorder(nil, nil, container.NewHBox(f.driveBox, f.up), f.refresh, f.path)
	f.bar = bar
	f.transferScroll = container.NewVScroll(f.transfers)
	f.transferScroll.SetMinSize(fyne.NewSize(0, 90)) // two transfers; more scroll
	bottom := container.NewVBox(container.NewHBox(f.download, f.upload), f.transferScroll)
	page := container.NewBorder(container.NewVBox(bar, f.status), bottom, nil, nil, f.list)
	return f, page
}

// shown fills the drive choice and lists the first drive the first time
// the tab is opened.
func (f *filesTab) shown() {
	if f.loaded {
		return
	}
	f.loaded = true
	rs, start := f.rs, f.start
	f.work.run(jobFilesList, func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		drives, err := rs.Drives(ctx)
		var folder string
		var entries []wire.Entry
		if err == nil && start != "" {
			var lerr error
			if folder, entries, lerr = rs.List(ctx, start); lerr != nil {
				folder = "" // gone since: the first drive instead
			}
		}
		if err == nil && folder == "" && len(drives) > 0 {
			folder, entries, err = rs.List(ctx, drives[0].Path)
		}
		return func() {
			var labels []string
			f.drivePaths = map[string]string{}
			for _, d := range drives {
				label := driveLabel(d)
				labels = append(labels, label)
				f.drivePaths[label] = d.Path
			}
			f.drives.SetOptions(labels)
			f.driveWidth.width = driveChoiceWidth(labels)
			f.driveBox.Refresh()
			f.bar.Refresh()
			f.show(folder, entries, err)
		}
	})
}

// open lists a folder of the PC; the tab keeps showing the last one if the
// PC refuses.
func (f *filesTab) open(folder string) {
	folder = strings.TrimSpace(folder)
	if folder == "" {
		return
	}
	rs := f.rs
	f.refresh.Disable()
	f.work.run(jobFilesList, func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		listed, entries, err := rs.List(ctx, folder)
		return func() {
			f.refresh.Enable()
			f.show(listed, entries, err)
		}
	})
}

func (f *filesTab) show(folder string, entries []wire.Entry, err error) {
	if err != nil {
		f.say(err)
		f.path.SetText(f.folder)
		return
	}
	f.status.Hide()
	f.folder, f.entries = folder, entries
	if f.moved != nil {
		f.moved(folder)
	}
	f.path.SetText(folder)
	f.list.UnselectAll()
	f.selected = -1
	f.download.Disable()
	f.list.Refresh()
	f.list.ScrollToTop()
	for _, label := range f.drives.Options {
		if strings.EqualFold(f.drivePaths[label], folder) {
			f.drives.SetSelected(label)
		}
	}
}

// maxDriveChoice caps the drive choice's width so the path bar keeps room
// in a 1024-pixel window; a longer label is cut there.
const maxDriveChoice = 360

// driveChoiceWidth is the width that shows the longest label whole: its
// text, the choice's drop-down icon and its paddings.
func driveChoiceWidth(labels []string) float32 {
	var w float32
	for _, l := range labels {
		w = max(w, widget.NewLabel(l).MinSize().Width)
	}
	if w == 0 {
		return 0
	}
	return min(w+theme.IconInlineSize()+2*theme.InnerPadding(), maxDriveChoice)
}

// driveLabel reads like `C:\ Windows (fixed, 212.0 GB free)`.
func driveLabel(d wire.Drive) string {
	label := d.Path
	if d.Label != "" {
		label += " " + d.Label
	}
	var about []string
	if d.Kind != "" {
		about = append(about, d.Kind)
	}
	if d.Total > 0 {
		about = append(about, sizeText(d.Free)+" free")
	}
	if len(about) > 0 {
		label += " (" + strings.Join(about, ", ") + ")"
	}
	return label
}

// say shows a refusal's sentence above the list.
func (f *filesTab) say(err error) {
	f.status.SetText(errorText(err))
	f.status.Show()
}

func (f *filesTab) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id < len(f.entries) {
		o.(*fileRow).set(id, f.entries[id])
	}
}

// onDownload asks where to save the selected file (this computer's folder
// and a name, the PC's name by default), then downloads it.
func (f *filesTab) onDownload() {
	if f.selected < 0 || f.selected >= len(f.entries) {
		return
	}
	e := f.entries[f.selected]
	if e.Folder {
		f.open(pcJoin(f.folder, e.PCName()))
		return
	}
	remote := pcJoin(f.folder, e.PCName())
	folder := &widget.Entry{Text: f.localDir}
	name := &widget.Entry{Text: e.Name}
	browse := &widget.Button{Text: "Choose…", Icon: theme.FolderOpenIcon()}
	browse.OnTapped = func() {
		d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
			if err == nil && u != nil {
				folder.SetText(u.Path())
			}
		}, f.win)
		if l, err := storage.ListerForURI(storage.NewFileURI(folder.Text)); err == nil {
			d.SetLocation(l)
		}
		d.Show()
	}
	items := []*widget.FormItem{
		{Text: "Folder", Widget: container.NewBorder(nil, nil, nil, browse, folder), HintText: "On this computer"},
		{Text: "Name", Widget: name},
	}
	d := dialog.NewForm("Download "+e.Name, "Download", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		local := filepath.Join(folder.Text, strings.TrimSpace(name.Text))
		f.localDir = folder.Text
		if _, err := os.Stat(local); err == nil {
			askFirst(f.win, "Replace "+filepath.Base(local)+"?",
				fmt.Sprintf("%s already exists in %s on this computer. Replace it with %s from the PC? The old file stays until the download is complete.", filepath.Base(local), folder.Text, e.Name),
				"Replace", func() { f.startDownload(remote, local, e.Size) })
			return
		}
		f.startDownload(remote, local, e.Size)
	}, f.win)
	d.Resize(fyne.NewSize(520, 0))
	d.Show()
}

// onUpload asks for a file of this computer and uploads it into the folder
// listed; if the PC already has one of that name, it asks before replacing.
func (f *filesTab) onUpload() {
	if f.folder == "" {
		f.say(&refusal.Error{Code: "no_folder", Message: "Open a folder of the PC first: the file goes into the folder shown."})
		return
	}
	folder := f.folder
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		local := r.URI().Path()
		r.Close() // core opens it by path
		f.localDir = filepath.Dir(local)
		f.startUpload(local, folder, filepath.Base(local), false)
	}, f.win)
	if l, err := storage.ListerForURI(storage.NewFileURI(f.localDir)); err == nil {
		d.SetLocation(l)
	}
	d.Resize(fyne.NewSize(700, 480))
	d.Show()
}

func (f *filesTab) startDownload(remote, local string, size int64) {
	t := f.addTransfer("↓ "+filepath.Base(local), size)
	rs := f.rs
	f.work.run(jobTransfer, func() func() {
		err := rs.Download(t.ctx, remote, local, t.progress)
		return func() { t.finish(err, "Saved to "+local) }
	})
}

func (f *filesTab) startUpload(local, folder, name string, overwrite bool) {
	var size int64
	if st, err := os.Stat(local); err == nil {
		size = st.Size()
	}
	t := f.addTransfer("↑ "+name, size)
	rs := f.rs
	f.work.run(jobTransfer, func() func() {
		err := rs.Upload(t.ctx, local, folder, name, overwrite, t.progress)
		return func() {
			if errors.Is(err, remote.ErrRemoteFileExists) && !overwrite {
				t.remove()
				askFirst(f.win, "Replace "+name+" on the PC?",
					fmt.Sprintf("%s already exists in %s on the PC. Replace it with %s from this computer? The old file stays until the upload is complete.", name, folder, local),
					"Replace", func() { f.startUpload(local, folder, name, true) })
				return
			}
			t.finish(err, "Uploaded to "+pcJoin(folder, name))
			if err == nil && folder == f.folder {
				f.open(folder)
			}
		}
	})
}

// pcWindows says a PC path is spelled the Windows way.
func pcWindows(p string) bool {
	return strings.Contains(p, `\`) || len(p) >= 2 && p[1] == ':'
}

// pcJoin joins a PC folder and a name with the PC's separator.
func pcJoin(folder, name string) string {
	sep := "/"
	if pcWindows(folder) {
		sep = `\`
	}
	return strings.TrimSuffix(folder, sep) + sep + name
}

// pcParent is the folder above a PC folder; a drive's root is its own.
func pcParent(folder string) string {
	sep := "/"
	if pcWindows(folder) {
		sep = `\`
	}
	trimmed := strings.TrimSuffix(folder, sep)
	i := strings.LastIndex(trimmed, sep)
	switch {
	case i < 0 || trimmed == "":
		return folder
	case i == 0 || (sep == `\` && i == 2 && trimmed[1] == ':'):
		return trimmed[:i+1] // "/" or "C:\"
	}
	return trimmed[:i]
}
