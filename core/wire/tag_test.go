package wire

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// signedRig is a small real Windows program signed by a code-signing
// certificate of a CA made for the test, built once per test binary.
type signedRig struct {
	dir    string
	root   string // root.pem
	signed []byte
	err    error
}

var (
	rigOnce sync.Once
	rig     signedRig
)

// signedApp builds the rig, or skips when osslsigncode or the Go
// toolchain is missing.
func signedApp(tb testing.TB) *signedRig {
	tb.Helper()
	for _, tool := range []string{"osslsigncode", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("%s is not installed (make deps installs osslsigncode); the signed download is not tested", tool)
		}
	}
	rigOnce.Do(func() {
		dir, err := os.MkdirTemp("", "adhoc-sign-")
		if err != nil {
			rig.err = err
			return
		}
		rig.dir = dir
		rig.err = buildSigned(&rig)
	})
	if rig.err != nil {
		tb.Fatal(rig.err)
	}
	return &rig
}

func TestMain(m *testing.M) {
	code := m.Run()
	if rig.dir != "" {
		_ = os.RemoveAll(rig.dir)
	}
	os.Exit(code)
}

func buildSigned(r *signedRig) error {
	src := filepath.Join(r.dir, "tiny.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() { println(\"hello\") }\n"), 0o600); err != nil {
		return err
	}
	exe := filepath.Join(r.dir, "tiny.exe")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", exe, src)
	build.Dir = r.dir
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=", "GO111MODULE=off")
	if out, err := build.CombinedOutput(); err != nil {
		return errors.New("building the test program: " + string(out))
	}
	certs, key, err := testCodeSigningCA(r.dir)
	if err != nil {
		return err
	}
	r.root = filepath.Join(r.dir, "root.pem")
	signed := filepath.Join(r.dir, "signed.exe")
	if out, err := exec.Command("osslsigncode", "sign", "-certs", certs, "-key", key, "-h", "sha256",
		"-n", "Support Session", "-in", exe, "-out", signed).CombinedOutput(); err != nil {
		return errors.New("osslsigncode sign: " + string(out))
	}
	r.signed, err = os.ReadFile(signed)
	return err
}

// testCodeSigningCA writes root.pem, the leaf certificate (EKU codeSigning,
// subject "Example Support Ltd") and its key; it returns the leaf's paths.
func testCodeSigningCA(dir string) (certFile, keyFile string, err error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	now := time.Now()
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return "", "", err
	}
	root, _ := x509.ParseCertificate(rootDER)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Example Support Ltd", Organization: []string{"Example"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(12 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "leaf.key")
	for path, b := range map[string]*pem.Block{
		filepath.Join(dir, "root.pem"): {Type: "CERTIFICATE", Bytes: rootDER},
		certFile:                       {Type: "CERTIFICATE", Bytes: leafDER},
		keyFile:                        {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(b), 0o600); err != nil {
			return "", "", err
		}
	}
	return certFile, keyFile, nil
}

// verify runs osslsigncode verify on exe; the error holds its output.
func verify(t *testing.T, r *signedRig, exe []byte) (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "download.exe")
	if err := os.WriteFile(path, exe, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("osslsigncode", "verify", "-CAfile", r.root, "-in", path).CombinedOutput()
	if err != nil {
		return string(out), errors.New(string(out))
	}
	return string(out), nil
}

func TestTaggedDownloadKeepsSignature(t *testing.T) {
	r := signedApp(t)
	app, err := ParseSignedApp(r.signed)
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
	if len(tagged)%8 != 0 || len(tagged) <= len(r.signed) {
		t.Fatalf("tagged download is %d bytes (signed app %d): not grown to an 8-byte boundary", len(tagged), len(r.signed))
	}
	out, err := verify(t, r, tagged)
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
	if err != nil || Publisher(signer) != "Example Support Ltd" {
		t.Fatalf("signer %v, %v; want the publisher Example Support Ltd", signer, err)
	}

	t.Run("TamperedFails", func(t *testing.T) {
		bad := bytes.Clone(tagged)
		bad[app.table/2] ^= 0x01 // inside the signed image
		if _, err := verify(t, r, bad); err == nil {
			t.Fatal("osslsigncode accepts a download with a changed byte in the signed part")
		}
	})
}

func TestParseSignedAppRefusesUnsigned(t *testing.T) {
	r := signedApp(t)
	sizeAt, err := securityDirSize(r.signed)
	if err != nil {
		t.Fatal(err)
	}
	table := int(le32(r.signed[sizeAt-4:]))
	unsigned := bytes.Clone(r.signed[:table])
	clear(unsigned[sizeAt-4 : sizeAt+4])
	if _, err := ParseSignedApp(unsigned); !errors.Is(err, ErrNotSigned) {
		t.Fatalf("unsigned program: got %v, want ErrNotSigned", err)
	}
	if _, err := ParseSignedApp([]byte("MZ not a program")); err == nil || errors.Is(err, ErrNotSigned) {
		t.Fatalf("not a program: got %v, want a malformed-file error", err)
	}
	// A trailer after the table: the table is no longer at the end.
	trailed, _ := AppendDetails(r.signed, Details{Token: "x"})
	if _, err := ParseSignedApp(trailed); err == nil {
		t.Fatal("a signed app with bytes after its certificate table was accepted for tagging")
	}
}

func TestReadTagRefusesBrokenTable(t *testing.T) {
	r := signedApp(t)
	app, err := ParseSignedApp(r.signed)
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

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// BenchmarkTagDownload is the station's per-download cost of a signed app:
// the JSON and the tag (the app's bytes are shared, never copied).
func BenchmarkTagDownload(b *testing.B) {
	r := signedApp(b)
	app, err := ParseSignedApp(r.signed)
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
