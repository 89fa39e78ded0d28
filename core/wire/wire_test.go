package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestDetailsTrailerRoundTrip(t *testing.T) {
	exe := bytes.Repeat([]byte("MZ"), 5000)
	want := Details{StationURL: "https://station.example:8443", Pins: []string{"abc="}, Token: "tok",
		Technician: Technician{Name: "Ana", Email: "ana@example.com"}}
	out, err := AppendDetails(exe, want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, exe) {
		t.Fatal("the program bytes changed")
	}
	got, err := ReadDetails(out[len(out)-min(len(out), TrailerReadSize):])
	if err != nil || got.Token != want.Token || got.StationURL != want.StationURL || got.Technician != want.Technician {
		t.Fatalf("read %+v, %v; want %+v", got, err, want)
	}
}

func TestReadDetailsRefusesPlainProgram(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":      nil,
		"no trailer": []byte("MZ just a program"),
		"bad length": append([]byte("MZ\xff\xff\xff\xff"), trailerMagic...),
		"bad json":   append([]byte("MZ{x\x00\x00\x00\x02"), trailerMagic...),
	} {
		if _, err := ReadDetails(b); !errors.Is(err, ErrNoDetails) {
			t.Errorf("%s: got %v, want ErrNoDetails", name, err)
		}
	}
}
