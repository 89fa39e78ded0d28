package signtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a test CA with a code-signing certificate (subject Publisher)
// and a time-stamping certificate, all as files in Dir.
type PKI struct {
	Dir      string
	RootPEM  []byte
	RootFile string
	// CertFile and KeyFile are the code-signing certificate and its key
	// (PEM, PKCS#8); CertDER and KeyDER the same in DER for a token.
	CertFile, KeyFile string
	CertDER, KeyDER   []byte
	NotAfter          time.Time
	// TSACertFile and TSAKeyFile sign timestamps (EKU timeStamping).
	TSACertFile, TSAKeyFile string
}

// NewPKI makes a PKI whose code-signing certificate ends after life
// (started an hour ago); the root and the time-stamping certificate last
// ten years, so only the code-signing certificate can expire in a test.
func NewPKI(tb testing.TB, life time.Duration) PKI {
	tb.Helper()
	p, err := newPKI(tb.TempDir(), life)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// PEMEnv is the environment that signs with the PEM pair.
func (p PKI) PEMEnv() []string {
	return []string{"SIGN_CERT=" + p.CertFile, "SIGN_KEY=" + p.KeyFile}
}

// App is the signed program exe with this PKI's root.
func (p PKI) App(exe []byte) App { return App{Exe: exe, RootPEM: p.RootPEM, NotAfter: p.NotAfter} }

var oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}

func newPKI(dir string, life time.Duration) (p PKI, err error) {
	p.Dir = dir
	now := time.Now()
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return p, err
	}
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return p, err
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return p, err
	}
	p.RootPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER})
	p.RootFile = filepath.Join(dir, "root.pem")
	if err := os.WriteFile(p.RootFile, p.RootPEM, 0o600); err != nil {
		return p, err
	}

	p.NotAfter = now.Add(life).Truncate(time.Second)
	p.CertFile, p.KeyFile = filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "leaf.key")
	p.CertDER, p.KeyDER, err = issue(root, rootKey, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: Publisher, Organization: []string{"Example"}},
		NotBefore: now.Add(-time.Hour), NotAfter: p.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}, p.CertFile, p.KeyFile)
	if err != nil {
		return p, err
	}

	// OpenSSL signs timestamps only with a certificate whose extended key
	// usage is timeStamping alone and critical (RFC 3161, 2.3).
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		return p, err
	}
	p.TSACertFile, p.TSAKeyFile = filepath.Join(dir, "tsa.pem"), filepath.Join(dir, "tsa.key")
	_, _, err = issue(root, rootKey, &x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "Test Time Stamping", Organization: []string{"Example"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: oidExtKeyUsage, Critical: true, Value: eku}},
	}, p.TSACertFile, p.TSAKeyFile)
	return p, err
}

// issue makes a key and a certificate for tmpl signed by the root, and
// writes both as PEM.
func issue(root *x509.Certificate, rootKey *ecdsa.PrivateKey, tmpl *x509.Certificate, certFile, keyFile string) (certDER, keyDER []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	certDER, err = x509.CreateCertificate(rand.Reader, tmpl, root, &key.PublicKey, rootKey)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err = x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}), 0o600); err != nil {
		return nil, nil, err
	}
	err = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certDER, keyDER, err
}
