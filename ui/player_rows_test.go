package ui

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"adhocstation/core/record"
)

// A command's multi-line output takes a row per line in the player's list,
// each indented under its command: drawn in one row, its lines overlapped
// the rows below (the README's player screenshot showed it).
func TestOutputRowPerLine(t *testing.T) {
	payload, err := json.Marshal(record.Output{ID: 1, Text: "Status  Name\r\n------  ----\r\nStopped Spooler\r\n"})
	if err != nil {
		t.Fatal(err)
	}
	e, ok := eventLine(record.Record{Type: record.TypeOutput, T: time.Second, Payload: payload})
	if !ok {
		t.Fatal("the output is not listed")
	}
	var got []string
	for _, r := range eventRows(e) {
		if r.t != time.Second || r.typ != record.TypeOutput {
			t.Errorf("row %q at %v, type %d; want the output's 1s and type", r.text, r.t, r.typ)
		}
		got = append(got, r.text)
	}
	if want := []string{"   Status  Name", "   ------  ----", "   Stopped Spooler"}; !slices.Equal(got, want) {
		t.Errorf("rows %q; want %q", got, want)
	}
}
