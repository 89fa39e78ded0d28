package ui

import (
	"context"
	"fmt"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core/wire"
)

// fileRow is one entry of the Files list: a tap selects it, a double tap
// opens a folder (Fyne's list itself has no double tap).
type fileRow struct {
	widget.BaseWidget
	tab      *filesTab
	id       widget.ListItemID
	icon     *widget.Icon
	name     *widget.Label
	size     *widget.Label
	modified *widget.Label
}

var (
	_ fyne.Tappable       = (*fileRow)(nil)
	_ fyne.DoubleTappable = (*fileRow)(nil)
)

func newFileRow(tab *filesTab) *fileRow {
	r := &fileRow{tab: tab, icon: widget.NewIcon(theme.FileIcon()),
		name:     &widget.Label{Truncation: fyne.TextTruncateEllipsis},
		size:     &widget.Label{Alignment: fyne.TextAlignTrailing},
		modified: &widget.Label{}}
	r.ExtendBaseWidget(r)
	return r
}

func (r *fileRow) CreateRenderer() fyne.WidgetRenderer {
	// Fixed columns, measured on their widest text, so every row lines up
	// and none is cut however the template row was measured.
	right := container.NewHBox(sampleWidth(r.size, "1023.9 MB"), sampleWidth(r.modified, "2026-12-31 23:59"))
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, r.icon, right, r.name))
}

// sampleWidth holds l in the width sample's text needs.
func sampleWidth(l *widget.Label, sample string) fyne.CanvasObject {
	return container.New(fixedWidth{(&widget.Label{Text: sample}).MinSize().Width}, l)
}

func (r *fileRow) set(id widget.ListItemID, e wire.Entry) {
	r.id = id
	r.name.SetText(e.Name)
	if e.Folder {
		r.icon.SetResource(theme.FolderIcon())
		r.size.SetText("")
	} else {
		r.icon.SetResource(theme.FileIcon())
		r.size.SetText(sizeText(e.Size))
	}
	r.modified.SetText(e.Modified.Local().Format("2006-01-02 15:04"))
}

func (r *fileRow) Tapped(*fyne.PointEvent) { r.tab.list.Select(r.id) }

func (r *fileRow) DoubleTapped(*fyne.PointEvent) {
	t := r.tab
	if r.id < len(t.entries) && t.entries[r.id].Folder {
		t.open(pcJoin(t.folder, t.entries[r.id].PCName()))
		return
	}
	t.list.Select(r.id)
}

// transfer is one download or upload on screen: its name, a progress bar,
// the speed, and Cancel (Dismiss once it ended).
type transfer struct {
	tab    *filesTab
	row    *fyne.Container
	label  *widget.Label
	bar    *widget.ProgressBar
	speed  *widget.Label
	button *widget.Button
	result *widget.Label
	ctx    context.Context
	cancel context.CancelFunc
	start  time.Time

	mu    sync.Mutex // progress comes on the transfer's goroutine
	drawn time.Time
}

func (f *filesTab) addTransfer(name string, size int64) *transfer {
	t := &transfer{tab: f, start: time.Now()}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.label = &widget.Label{Text: name, Truncation: fyne.TextTruncateEllipsis}
	t.bar = widget.NewProgressBar()
	t.speed = &widget.Label{Text: sizeText(size), Alignment: fyne.TextAlignTrailing}
	t.result = &widget.Label{Wrapping: fyne.TextWrapWord}
	t.result.Hide()
	t.button = &widget.Button{Text: "Cancel", Icon: theme.CancelIcon(), OnTapped: t.cancel}
	line := container.NewBorder(nil, nil, sampleWidth(t.label, "↓ a long file name.docx"),
		container.NewHBox(sampleWidth(t.speed, "9999.9 MB/s"), t.button), t.bar)
	t.row = container.NewVBox(line, t.result)
	// Newest on top, scrolled into sight: finished rows would otherwise
	// push a new transfer's bar and Cancel below the list's two rows.
	f.transfers.Objects = append([]fyne.CanvasObject{t.row}, f.transfers.Objects...)
	f.transfers.Refresh()
	f.transferScroll.ScrollToTop()
	return t
}

// progress redraws the bar and speed at most every progressEvery.
func (t *transfer) progress(done, total int64) {
	now := time.Now()
	t.mu.Lock()
	if now.Sub(t.drawn) < progressEvery && done < total {
		t.mu.Unlock()
		return
	}
	t.drawn = now
	t.mu.Unlock()
	frac, speed := 1.0, speedText(done, now.Sub(t.start))
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	t.tab.work.apply(jobTransferProgress, func() {
		t.bar.SetValue(frac)
		t.speed.SetText(speed)
	})
}

// speedText reads like "312.5 MB/s".
func speedText(bytes int64, took time.Duration) string {
	if took <= 0 {
		return ""
	}
	return fmt.Sprintf("%.1f MB/s", float64(bytes)/1e6/took.Seconds())
}

// finish shows the transfer's end: done, or the refusal's sentence.
func (t *transfer) finish(err error, done string) {
	t.cancel()
	t.button.SetText("Dismiss")
	t.button.SetIcon(theme.ContentClearIcon())
	t.button.OnTapped = t.remove
	if err != nil {
		t.result.Importance = widget.DangerImportance
		t.result.SetText(errorText(err))
	} else {
		t.bar.SetValue(1)
		t.result.Importance = widget.SuccessImportance
		t.result.SetText(done)
	}
	t.result.Show()
	t.tab.transfers.Refresh() // the row grew by the result's line
}

func (t *transfer) remove() {
	t.cancel()
	t.tab.transfers.Remove(t.row)
}
