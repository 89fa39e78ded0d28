package wire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// oldDetails is Details as apps before the relay hub read it.
type oldDetails struct {
	StationURL string     `json:"station_url"`
	Pins       []string   `json:"pins"`
	Token      string     `json:"token"`
	Technician Technician `json:"technician"`
}

// TestDetailsHubCompatible: details naming a hub, in a trailer and in a
// signed app's tag, read back whole; an older app reads its own fields
// from them unchanged; details written without a hub (an older station)
// read with no hub, so the app dials the station directly.
func TestDetailsHubCompatible(t *testing.T) {
	d := Details{StationURL: "https://station.example:8443", Pins: []string{"pin="}, Token: "tok",
		Technician: Technician{Name: "Ana", Email: "ana@example.com"},
		Hub:        "https://hub.example.org", RelayToken: "eyJzdCI6ImFiIn0.c2ln"}
	trailer, err := AppendDetails([]byte("MZ exe"), d)
	if err != nil {
		t.Fatal(err)
	}
	signed := &SignedApp{exe: append(make([]byte, 16), 16, 0, 0, 0, 0, 2, 2, 0, 0x30, 6, 1, 2, 3, 4, 5, 6),
		sizeAt: 4, table: 16, tableLen: 16}
	tag, err := signed.Tag(d)
	if err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string][]byte{"trailer": trailer, "tag": bytes.Join(tag, nil)} {
		got, err := ReadDetails(file)
		if err != nil || !reflect.DeepEqual(got, d) {
			t.Errorf("%s: read %+v, %v; want %+v", name, got, err, d)
		}
	}

	js, _ := json.Marshal(d)
	var old oldDetails
	if err := json.Unmarshal(js, &old); err != nil || old.StationURL != d.StationURL || old.Token != d.Token ||
		!reflect.DeepEqual(old.Pins, d.Pins) || old.Technician != d.Technician {
		t.Errorf("an older app reads %+v, %v", old, err)
	}

	oldJS, _ := json.Marshal(oldDetails{StationURL: d.StationURL, Pins: d.Pins, Token: d.Token, Technician: d.Technician})
	if bytes.Contains(oldJS, []byte("hub")) {
		t.Fatal("the old layout already names a hub")
	}
	var fromOld Details
	if err := json.Unmarshal(oldJS, &fromOld); err != nil || fromOld.Hub != "" || fromOld.RelayToken != "" || fromOld.Token != "tok" {
		t.Errorf("details of an older station read as %+v, %v", fromOld, err)
	}
	// Without a hub the new fields are left out, so the bytes are the old ones.
	plain := d
	plain.Hub, plain.RelayToken = "", ""
	if js, _ := json.Marshal(plain); !bytes.Equal(js, oldJS) {
		t.Errorf("details without a hub changed on the wire:\n%s\n%s", js, oldJS)
	}
}
