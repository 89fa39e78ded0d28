package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"adhocstation/core/wire/signtest"
)

func TestTaggedDownloadKeepsSignature(t *testing.T) {
	r := signtest.Signed(t)
	checkTaggedKeepsSignature(t, r, func(exe []byte) (string, error) { return signtest.Verify(t, r, exe) })
}

// checkTaggedKeepsSignature tags the signed app r.Exe with a session's
// details and checks that verify still accepts it, that the details and
// the signer read back, and that a changed signed byte is refused. It
// returns the tagged download. Every way of signing (PEM, PFX, token,
// timestamp) goes through it.
func checkTaggedKeepsSignature(t *testing.T, r signtest.App, verify func([]byte) (string, error)) []byte {
	t.Helper()
	app, err := ParseSignedApp(r.Exe)
	if err != nil {
		t.Fatal(err)
	}
	want := Details{StationURL: "https://station.example:8443", Pins: []string{"pin1=", "pin2="}, Token: "tok-123",
		Technician: Technician{Name: "Ana", Email: "ana@example.com"}}
	pieces, err := app.Tag(want)
	if err != nil {
		t.Fatal(err)
	}
	tagged := bytes.Join(pieces, nil)
	if len(tagged)%8 != 0 || len(tagged) <= len(r.Exe) {
		t.Fatalf("tagged download is %d bytes (signed app %d): not grown to an 8-byte boundary", len(tagged), len(r.Exe))
	}
	out, err := verify(tagged)
	if err != nil {
		t.Fatalf("osslsigncode refuses the tagged download:\n%s", err)
	}
	// Windows checks the PE checksum only for drivers, but a stale one is
	// reported by tools; the tag keeps it right.
	if strings.Contains(out, "invalid PE checksum") {
		t.Errorf("the tagged download's PE checksum is stale:\n%s", out)
	}
	got, err := ReadDetails(tagged[len(tagged)-TrailerReadSize:])
	if err != nil || got.Token != want.Token || got.StationURL != want.StationURL ||
		got.Technician != want.Technician || len(got.Pins) != 2 || got.Pins[1] != "pin2=" {
		t.Fatalf("read %+v, %v; want %+v", got, err, want)
	}
	// The tagged file parses again, its signature found after the grown table's start.
	again, err := ParseSignedApp(tagged)
	if err != nil || !bytes.Equal(again.der, app.der) {
		t.Fatalf("the tagged download does not parse as the same signed app: %v", err)
	}
	signer, err := again.Signer()
	if err != nil || Publisher(signer) != signtest.Publisher || !signer.NotAfter.Equal(r.NotAfter) {
		t.Fatalf("signer %v, %v; want the publisher %s until %v", signer, err, signtest.Publisher, r.NotAfter)
	}

	t.Run("TamperedFails", func(t *testing.T) {
		bad := bytes.Clone(tagged)
		bad[app.table/2] ^= 0x01 // inside the signed image
		if _, err := verify(bad); err == nil {
			t.Fatal("osslsigncode accepts a download with a changed byte in the signed part")
		}
	})
	return tagged
}

func TestParseSignedAppRefusesUnsigned(t *testing.T) {
	r := signtest.Signed(t)
	sizeAt, err := securityDirSize(r.Exe)
	if err != nil {
		t.Fatal(err)
	}
	table := int(binary.LittleEndian.Uint32(r.Exe[sizeAt-4:]))
	unsigned := bytes.Clone(r.Exe[:table])
	clear(unsigned[sizeAt-4 : sizeAt+4])
	if _, err := ParseSignedApp(unsigned); !errors.Is(err, ErrNotSigned) {
		t.Fatalf("unsigned program: got %v, want ErrNotSigned", err)
	}
	if _, err := ParseSignedApp([]byte("MZ not a program")); !errors.Is(err, ErrNotProgram) {
		t.Fatalf("not a program: got %v, want ErrNotProgram", err)
	}
	// A trailer after the table: the table is no longer at the end.
	trailed, _ := AppendDetails(r.Exe, Details{Token: "x"})
	if _, err := ParseSignedApp(trailed); err == nil {
		t.Fatal("a signed app with bytes after its certificate table was accepted for tagging")
	}
}

func TestReadTagRefusesBrokenTable(t *testing.T) {
	r := signtest.Signed(t)
	app, err := ParseSignedApp(r.Exe)
	if err != nil {
		t.Fatal(err)
	}
	pieces, _ := app.Tag(Details{Token: "tok"})
	tagged := bytes.Join(pieces, nil)
	bad := bytes.Clone(tagged)
	bad[app.table] ^= 0x08 // WIN_CERTIFICATE's dwLength no longer ends at the tag
	if _, err := ReadDetails(bad[len(bad)-TrailerReadSize:]); !errors.Is(err, ErrNoDetails) {
		t.Fatalf("got %v, want ErrNoDetails for a tag that does not end its certificate table", err)
	}
}

// BenchmarkTagDownload is the station's per-download cost of a signed app:
// the JSON and the tag (the app's bytes are shared, never copied).
func BenchmarkTagDownload(b *testing.B) {
	r := signtest.Signed(b)
	app, err := ParseSignedApp(r.Exe)
	if err != nil {
		b.Fatal(err)
	}
	d := Details{StationURL: "https://station.example:8443", Pins: []string{"Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=", "YmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm8="},
		Token: "k3JvQ2x1c3RlcnMtYXJlLWZ1bg", Technician: Technician{Name: "Ana Example", Email: "ana@example.com"}}
	var extra int
	b.ReportAllocs()
	for b.Loop() {
		pieces, err := app.Tag(d)
		if err != nil {
			b.Fatal(err)
		}
		extra = len(pieces[len(pieces)-1])
	}
	b.ReportMetric(float64(extra), "tag-bytes")
	b.ReportMetric(float64(app.tableLen), "table-bytes")
}

// BenchmarkParseAgent is the station's one-time cost at start for the real
// Support Session app (make agent with SIGN_* set): find the signature and
// sum the PE checksum's words.
func BenchmarkParseAgent(b *testing.B) {
	exe, err := os.ReadFile("../../assets/agent/AdHocSupport.exe")
	if err != nil {
		b.Skip("no assets/agent/AdHocSupport.exe: run make agent")
	}
	if _, err := ParseSignedApp(exe); err != nil {
		b.Skipf("the built app cannot be tagged (%v): run make agent with SIGN_CERT and SIGN_KEY or SIGN_PFX", err)
	}
	b.SetBytes(int64(len(exe)))
	for b.Loop() {
		if _, err := ParseSignedApp(exe); err != nil {
			b.Fatal(err)
		}
	}
}
