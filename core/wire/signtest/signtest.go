// Package signtest gives tests a small real Windows program signed with
// Authenticode by osslsigncode, with a code-signing certificate of a CA
// made for the test. Only tests import it.
package signtest

import (
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
	"sync"
	"testing"
	"time"
)

// Publisher is the test signing certificate's common name.
const Publisher = "Example Support Ltd"

// App is a signed program and the root that verifies it.
type App struct {
	Exe     []byte // signed with SHA-256, no timestamp
	RootPEM []byte
	// NotAfter is the signing certificate's end.
	NotAfter time.Time
}

var (
	once  sync.Once
	built App
	err   error
)

// Signed builds the app once per test binary (about a second), or skips
// the test when osslsigncode or the Go toolchain is missing.
func Signed(tb testing.TB) App {
	tb.Helper()
	for _, tool := range []string{"osslsigncode", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("%s is not installed (make deps installs osslsigncode); the signed download is not tested", tool)
		}
	}
	once.Do(func() { built, err = build() })
	if err != nil {
		tb.Fatal(err)
	}
	return built
}

// Verify runs osslsigncode verify on exe against the test root; the error
// holds its output.
func Verify(tb testing.TB, a App, exe []byte) (string, error) {
	tb.Helper()
	dir := tb.TempDir()
	root, path := filepath.Join(dir, "root.pem"), filepath.Join(dir, "download.exe")
	if err := os.WriteFile(root, a.RootPEM, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, exe, 0o600); err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command("osslsigncode", "verify", "-CAfile", root, "-in", path).CombinedOutput()
	if err != nil {
		return string(out), errors.New(string(out))
	}
	return string(out), nil
}

func build() (App, error) {
	dir, err := os.MkdirTemp("", "adhoc-sign-")
	if err != nil {
		return App{}, err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "tiny.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() { println(\"hello\") }\n"), 0o600); err != nil {
		return App{}, err
	}
	exe := filepath.Join(dir, "tiny.exe")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", exe, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return App{}, errors.New("building the test program: " + string(out))
	}
	a, certFile, keyFile, err := codeSigningCA(dir)
	if err != nil {
		return App{}, err
	}
	signed := filepath.Join(dir, "signed.exe")
	if out, err := exec.Command("osslsigncode", "sign", "-certs", certFile, "-key", keyFile, "-h", "sha256",
		"-n", "Support Session", "-in", exe, "-out", signed).CombinedOutput(); err != nil {
		return App{}, errors.New("osslsigncode sign: " + string(out))
	}
	a.Exe, err = os.ReadFile(signed)
	return a, err
}

// codeSigningCA makes a root and a leaf for code signing (EKU codeSigning,
// subject Publisher) and writes the leaf and its key to dir.
func codeSigningCA(dir string) (a App, certFile, keyFile string, err error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return a, "", "", err
	}
	now := time.Now()
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return a, "", "", err
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return a, "", "", err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return a, "", "", err
	}
	a.NotAfter = now.Add(24 * time.Hour).Truncate(time.Second)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: Publisher, Organization: []string{"Example"}},
		NotBefore: now.Add(-time.Hour), NotAfter: a.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		return a, "", "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return a, "", "", err
	}
	a.RootPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER})
	certFile, keyFile = filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "leaf.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), 0o600); err != nil {
		return a, "", "", err
	}
	err = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	return a, certFile, keyFile, err
}
