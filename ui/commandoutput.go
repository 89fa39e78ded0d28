package ui

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"fyne.io/fyne/v2/widget"
)

// commandOutput is the Command tab's transcript as it comes from a running
// command: the newest rows for the screen, already split into a TextGrid's
// cells off the Fyne goroutine, and every byte in a spool file for Save
// output…. A command may print megabytes a second (dir /s, a log dump); the
// screen is redrawn at most every outputRedraw with at most maxOutputRows
// rows, so neither the window nor the station's memory follows its size.
type commandOutput struct {
	mu      sync.Mutex
	rows    []widget.TextGridRow  // ended rows, oldest first; never changed once added
	cells   int                   // cells in rows
	line    []widget.TextGridCell // the row being written
	dropped bool                  // older rows were let go
	changed bool                  // since the last snapshot
	// A redraw is scheduled (waiting for its time or for the Fyne
	// goroutine); the next one is due outputRedraw after the last.
	scheduled bool
	last      time.Time

	spool     *os.File
	spoolPath string // to remove on close where an open file cannot be removed (Windows)
	spooled   int64
	spoolCut  bool // the spool stopped at maxSpool or on a write error
}

const (
	outputRedraw   = 100 * time.Millisecond // at most ten redraws a second
	maxOutputRows  = 2000                   // rows the tab shows (the newest)
	maxOutputCells = 256 << 10              // and at most this many characters
	maxOutputWidth = 1000                   // a longer line goes on in the next row
	outputTabWidth = 8                      // as consoles set tabs
	maxSpool       = 1 << 30                // Save output… keeps at most this much
)

// write adds s and says whether the caller must schedule a redraw, and
// after how long; one is scheduled at a time, however fast output comes.
func (o *commandOutput) write(s string) (after time.Duration, schedule bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.keep(s)
	for _, r := range s {
		switch r {
		case '\n':
			o.endRow()
		case '\r': // Windows ends lines with \r\n
		case '\t':
			for {
				o.line = append(o.line, widget.TextGridCell{Rune: ' '})
				if len(o.line)%outputTabWidth == 0 {
					break
				}
			}
		default:
			o.line = append(o.line, widget.TextGridCell{Rune: r})
		}
		if len(o.line) >= maxOutputWidth {
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

// endRow moves the row being written to rows, letting the oldest go past
// the limits.
func (o *commandOutput) endRow() {
	o.rows = append(o.rows, widget.TextGridRow{Cells: slices.Clip(o.line)})
	o.cells += len(o.line)
	o.line = nil
	for len(o.rows) > maxOutputRows || o.cells > maxOutputCells {
		o.cells -= len(o.rows[0].Cells)
		o.rows[0] = widget.TextGridRow{} // let its cells go now, not when the array is copied
		o.rows = o.rows[1:]
		o.dropped = true
	}
}

// keep appends s to the spool, created at the first output. The file is
// private to this user (0600) in the temporary folder, and removed at
// once where an open file can be (Linux, macOS): nothing is left behind
// even if the station is killed. On Windows it goes at close.
func (o *commandOutput) keep(s string) {
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
	if o.spooled+int64(len(s)) > maxSpool {
		o.spoolCut = true
		return
	}
	n, err := io.WriteString(o.spool, s)
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
	// A copy: endRow clears the entries it lets go. The cells are shared;
	// an ended row's never change, and the row being written is copied.
	rows = make([]widget.TextGridRow, len(o.rows), len(o.rows)+1)
	copy(rows, o.rows)
	return append(rows, widget.TextGridRow{Cells: slices.Clone(o.line)}), o.dropped
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
