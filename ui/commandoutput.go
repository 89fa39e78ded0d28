package ui

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2/widget"
)

// commandOutput is the Command tab's transcript as it comes from a running
// command: the newest rows for the screen, and every byte in a spool file
// for Save output…. A command may print megabytes a second (dir /s, a log
// dump); the screen is redrawn at most every outputRedraw with at most
// maxOutputRows rows, so neither the window nor the station's memory
// follows its size. Rows become a TextGrid's cells only when shown: most
// rows of a flood are let go before any redraw would show them.
type commandOutput struct {
	mu      sync.Mutex
	ring    [maxOutputRows]outputRow // ended rows, oldest at head
	head, n int
	cells   int    // characters in the ring (a tab counts its spaces)
	line    []byte // the row being written, tabs expanded
	runes   int    // characters in line
	dropped bool   // older rows were let go
	changed bool   // since the last snapshot
	// A redraw is scheduled (waiting for its time or for the Fyne
	// goroutine); the next one is due outputRedraw after the last.
	scheduled bool
	last      time.Time

	spool     *os.File
	spoolPath string // to remove on close where an open file cannot be removed (Windows)
	spooled   int64
	spoolCut  bool // the spool stopped at maxSpool or on a write error
}

// outputRow is an ended row; its cells are made the first time it is shown
// and never change after.
type outputRow struct {
	text  string
	runes int
	cells []widget.TextGridCell
}

const (
	outputRedraw   = 100 * time.Millisecond // at most ten redraws a second
	maxOutputRows  = 2000                   // rows the tab shows (the newest)
	maxOutputCells = 128 << 10              // and at most this many characters
	maxOutputWidth = 120                    // as a Windows console; a longer line goes on in the next row
	outputTabWidth = 8                      // as consoles set tabs
	maxSpool       = 1 << 30                // Save output… keeps at most this much
)

// write adds b and says whether the caller must schedule a redraw, and
// after how long; one is scheduled at a time, however fast output comes.
func (o *commandOutput) write(b []byte) (after time.Duration, schedule bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.keep(b)
	b = o.skipUnseen(b)
	for _, r := range string(b) { // not copied: the compiler ranges over b
		switch r {
		case '\n':
			o.endRow()
		case '\r': // Windows ends lines with \r\n
		case '\t':
			for {
				o.line = append(o.line, ' ')
				o.runes++
				if o.runes%outputTabWidth == 0 {
					break
				}
			}
		default:
			o.line = utf8.AppendRune(o.line, r)
			o.runes++
		}
		if o.runes >= maxOutputWidth {
			o.endRow()
		}
	}
	o.changed = true
	if o.scheduled {
		return 0, false
	}
	o.scheduled = true
	return max(0, outputRedraw-time.Since(o.last)), true
}

// skipUnseen drops the lines of b that the newest maxOutputRows would push
// out anyway (with the row being written, which is their first).
func (o *commandOutput) skipUnseen(b []byte) []byte {
	cut, lines := len(b), 0
	for lines <= maxOutputRows {
		cut = bytes.LastIndexByte(b[:cut], '\n')
		if cut < 0 {
			return b
		}
		lines++
	}
	o.line, o.runes, o.dropped = o.line[:0], 0, true
	return b[cut+1:]
}

// endRow moves the row being written to the ring, letting the oldest go
// past the limits.
func (o *commandOutput) endRow() {
	if o.n == len(o.ring) {
		o.drop()
	}
	o.ring[(o.head+o.n)%len(o.ring)] = outputRow{text: string(o.line), runes: o.runes}
	o.n++
	o.cells += o.runes
	o.line, o.runes = o.line[:0], 0
	for o.cells > maxOutputCells {
		o.drop()
	}
}

func (o *commandOutput) drop() {
	o.cells -= o.ring[o.head].runes
	o.ring[o.head] = outputRow{}
	o.head = (o.head + 1) % len(o.ring)
	o.n--
	o.dropped = true
}

// keep appends b to the spool, created at the first output. The file is
// private to this user (0600) in the temporary folder, and removed at
// once where an open file can be (Linux, macOS): nothing is left behind
// even if the station is killed. On Windows it goes at close.
func (o *commandOutput) keep(b []byte) {
	if o.spoolCut {
		return
	}
	if o.spool == nil {
		f, err := os.CreateTemp("", "adhoc-command-output-*.txt")
		if err != nil {
			o.spoolCut = true
			return
		}
		o.spool = f
		if os.Remove(f.Name()) != nil {
			o.spoolPath = f.Name()
		}
	}
	if o.spooled+int64(len(b)) > maxSpool {
		o.spoolCut = true
		return
	}
	n, err := o.spool.Write(b)
	o.spooled += int64(n)
	if err != nil {
		o.spoolCut = true
	}
}

// snapshot returns the rows to show (nil when nothing changed since the
// last) and whether older ones were let go, and ends the scheduled redraw:
// the next write schedules another.
func (o *commandOutput) snapshot() (rows []widget.TextGridRow, dropped bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.scheduled = false
	o.last = time.Now()
	if !o.changed {
		return nil, o.dropped
	}
	o.changed = false
	rows = make([]widget.TextGridRow, 0, o.n+1)
	for i := range o.n {
		r := &o.ring[(o.head+i)%len(o.ring)]
		if r.cells == nil {
			r.cells = gridCells(r.text, r.runes)
		}
		rows = append(rows, widget.TextGridRow{Cells: r.cells})
	}
	return append(rows, widget.TextGridRow{Cells: gridCells(string(o.line), o.runes)}), o.dropped
}

func gridCells(s string, n int) []widget.TextGridCell {
	cells := make([]widget.TextGridCell, 0, n)
	for _, r := range s {
		cells = append(cells, widget.TextGridCell{Rune: r})
	}
	return cells
}

// saveTo copies the whole transcript so far to w.
func (o *commandOutput) saveTo(w io.Writer) (int64, error) {
	o.mu.Lock()
	f, n, cut := o.spool, o.spooled, o.spoolCut
	o.mu.Unlock()
	if f != nil {
		if _, err := io.Copy(w, io.NewSectionReader(f, 0, n)); err != nil {
			return 0, err
		}
	}
	if cut {
		note := fmt.Sprintf("\n[The station kept only the first %d bytes of this output for saving.]\n", n)
		if _, err := io.WriteString(w, note); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// close removes the spool.
func (o *commandOutput) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.spool != nil {
		o.spool.Close()
		if o.spoolPath != "" {
			os.Remove(o.spoolPath)
		}
	}
	o.spool, o.spoolCut = nil, true
}
