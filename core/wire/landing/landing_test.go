package landing_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adhocstation/core/wire/landing"
)

// names lists dir's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// The bytes stay under the hidden partial name until Land, which puts
// them under the real name in one rename; more than writebackEvery bytes
// go through the kernel's early writeback on Linux on the way.
func TestLandRenamesOnlyAtTheEnd(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(final, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := landing.Create(dir, "report.pdf")
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("0123456789abcdef"), 17<<16) // 17 MiB
	for b := want; len(b) > 0; b = b[min(len(b), 1<<20):] {
		if _, err := f.Write(b[:min(len(b), 1<<20)]); err != nil {
			t.Fatal(err)
		}
	}
	partial := filepath.Base(f.Name())
	if !strings.HasPrefix(partial, "~report.pdf.") || !strings.HasSuffix(partial, landing.Suffix) {
		t.Fatalf("the partial file is named %q", partial)
	}
	if got, _ := os.ReadFile(final); string(got) != "old" {
		t.Fatalf("the real name changed before Land: %.10q", got)
	}
	if err := f.Land(final, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(final); !bytes.Equal(got, want) {
		t.Fatalf("after Land the file holds %d bytes, want the %d written", len(got), len(want))
	}
	if n := names(t, dir); len(n) != 1 {
		t.Fatalf("after Land the folder holds %q", n)
	}
}

// A refusal before the rename (the PC's file appeared meanwhile) and a
// failed transfer both leave the real name alone and nothing else behind.
func TestRefusedOrDiscardedLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "a.txt")
	f, err := landing.Create(dir, "a.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("new"))
	no := errors.New("no")
	if err := f.Land(final, func() error { return no }); err != no {
		t.Fatalf("Land returned %v, want before's refusal", err)
	}
	if err := f.Discard(); err != nil {
		t.Fatal(err)
	}
	g, err := landing.Create(dir, "a.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = g.Write([]byte("cut"))
	if err := g.Discard(); err != nil {
		t.Fatal(err)
	}
	if n := names(t, dir); len(n) != 0 {
		t.Fatalf("the folder holds %q, want nothing", n)
	}
}
