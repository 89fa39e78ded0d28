package support_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adhocstation/agent/support"
)

// fileLog is a RotatingLog on real files, as the Windows helper's (which
// opens with an admin-only descriptor instead).
func fileLog(dir string, max int64) *support.RotatingLog {
	path := filepath.Join(dir, "screen.log")
	return &support.RotatingLog{Max: max,
		Open: func() (io.WriteCloser, int64, error) {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
			if err != nil {
				return nil, 0, err
			}
			st, err := f.Stat()
			if err != nil {
				f.Close()
				return nil, 0, err
			}
			return f, st.Size(), nil
		},
		Rotate: func() error { return os.Rename(path, filepath.Join(dir, "screen.old.log")) },
	}
}

// TestRotatingLogBounded: however much is logged, the log and the one
// moved aside stay under Max each, whole lines, the newest last; a new
// run appends to what the last one left.
func TestRotatingLogBounded(t *testing.T) {
	dir := t.TempDir()
	const max = 1000
	l := fileLog(dir, max)
	logger := log.New(l, "", 0)
	for i := range 500 {
		logger.Printf("line %03d: Tess Tech is viewing the screen", i)
	}
	l.Close()
	l = fileLog(dir, max) // the helper started again
	log.New(l, "", 0).Printf("line 500: started again")
	l.Close()
	cur, err := os.ReadFile(filepath.Join(dir, "screen.log"))
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(filepath.Join(dir, "screen.old.log"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"screen.log": cur, "screen.old.log": old} {
		if len(b) > max || len(b) == 0 {
			t.Errorf("%s has %d bytes; want 1..%d", name, len(b), max)
		}
		if !strings.HasPrefix(string(b), "line ") || !strings.HasSuffix(string(b), "\n") {
			t.Errorf("%s does not hold whole lines: %q", name, b)
		}
	}
	if !strings.HasSuffix(string(cur), "line 500: started again\n") ||
		!strings.Contains(string(cur)+string(old), fmt.Sprintf("line %03d:", 499)) {
		t.Errorf("the newest lines are missing:\n%s", cur)
	}
}

// TestRotatingLogUnwritable: a log that cannot be opened loses its lines
// and nothing else.
func TestRotatingLogUnwritable(t *testing.T) {
	l := fileLog(filepath.Join(t.TempDir(), "missing"), 100)
	if n, err := l.Write([]byte("a line\n")); n != 7 || err != nil {
		t.Fatalf("Write = %d, %v; want the line taken without an error", n, err)
	}
}
