package pairing

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"adhocstation/core"

	"adhocstation/core/wire/landing"
)

// Files of the station's own certificate inside the data folder. The key
// is made once and kept, so its pin (the SHA-256 of the public key) stays
// the same even when the certificate is reissued for a new host name.
const (
	KeyFile  = "pairing-key.pem"
	CertFile = "pairing-cert.pem"
)

// certLifetime is long because no browser trusts a self-signed certificate
// anyway and the app checks only the pin; reissuing keeps the same key.
const certLifetime = 2 * 365 * 24 * time.Hour

// certSet is what the server presents: the served certificate and the pins
// a downloaded app accepts.
type certSet struct {
	cert *tls.Certificate
	// pins lists the served key first, then the station's own key when an
	// organisation certificate is served, so either can be switched back.
	pins []string
	// selfSigned is true when browsers will warn about the certificate.
	selfSigned bool
	// fingerprint is the served certificate's SHA-256, as browsers show it.
	fingerprint string
}

// loadCerts returns the organisation certificate when certFile and keyFile
// are set, otherwise the station's own one from dir (made or reissued as
// needed so that hosts are among its names).
func loadCerts(dir, certFile, keyFile string, hosts []string, now time.Time) (*certSet, error) {
	own, err := ownCertificate(dir, hosts, now)
	if err != nil {
		return nil, err
	}
	ownPin, err := pinOf(own)
	if err != nil {
		return nil, err
	}
	if certFile == "" {
		return &certSet{cert: own, pins: []string{ownPin}, selfSigned: true, fingerprint: fingerprintOf(own)}, nil
	}
	org, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("the organisation certificate cannot be used (%s, %s): %w", certFile, keyFile, err)
	}
	orgPin, err := pinOf(&org)
	if err != nil {
		return nil, err
	}
	pins := []string{orgPin}
	if ownPin != orgPin {
		pins = append(pins, ownPin)
	}
	return &certSet{cert: &org, pins: pins, fingerprint: fingerprintOf(&org)}, nil
}

// ownCertificate loads the station's key and certificate from dir, making
// the key on first start and (re)issuing the certificate when it is missing,
// close to expiry or does not name every host.
func ownCertificate(dir string, hosts []string, now time.Time) (*tls.Certificate, error) {
	key, err := loadOrCreateKey(filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, err
	}
	certPath := filepath.Join(dir, CertFile)
	// A missing or damaged certificate is simply issued again: the key, and
	// so the pin, stays.
	if der, err := readPEM(certPath, "CERTIFICATE"); err == nil {
		c, err := x509.ParseCertificate(der)
		if err == nil && certFits(c, key, hosts, now) {
			return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, nil
		}
	}
	der, err := issue(key, hosts, now)
	if err != nil {
		return nil, err
	}
	if err := landing.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, nil
}

func certFits(c *x509.Certificate, key *ecdsa.PrivateKey, hosts []string, now time.Time) bool {
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) || now.Add(30*24*time.Hour).After(c.NotAfter) {
		return false
	}
	for _, h := range hosts {
		if c.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func loadOrCreateKey(path string) (*ecdsa.PrivateKey, error) {
	der, err := readPEM(path, "EC PRIVATE KEY")
	if err == nil {
		key, err := x509.ParseECPrivateKey(der)
		if err != nil {
			return nil, core.Errorf("pairing_key_damaged", "The station's pairing key %s is damaged (%w). Delete it to make a new one and restart the station; copies of the app downloaded before will then refuse the station.", path, err)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err = x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := landing.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	return key, nil
}

func issue(key *ecdsa.PrivateKey, hosts []string, now time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Ad Hoc Support Station", Organization: []string{"Ad Hoc Support Station (self-signed)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
}

// certHosts are the names the station's own certificate carries: the public
// host name, this machine's name, localhost and every address it has.
func certHosts(publicHost string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if publicHost != "" {
		hosts = append(hosts, publicHost)
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() {
				hosts = append(hosts, n.IP.String())
			}
		}
	}
	slices.Sort(hosts)
	return slices.Compact(hosts)
}

// Pin returns the base64 SHA-256 of a certificate's public key (SPKI), the
// value the Support Session app checks.
func Pin(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func pinOf(c *tls.Certificate) (string, error) {
	leaf := c.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return "", err
		}
	}
	return Pin(leaf), nil
}

// fingerprintOf is the certificate's SHA-256 in the colon-separated hex that
// browsers show in their certificate viewer.
func fingerprintOf(c *tls.Certificate) string {
	sum := sha256.Sum256(c.Certificate[0])
	out := make([]byte, 0, len(sum)*3)
	for i, b := range sum {
		if i > 0 {
			out = append(out, ':')
		}
		out = fmt.Appendf(out, "%02X", b)
	}
	return string(out)
}

func readPEM(path, kind string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != kind {
		return nil, fmt.Errorf("%s holds no %s", path, kind)
	}
	return b.Bytes, nil
}
