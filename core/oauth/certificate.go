package oauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ClientCertificate is an app registration's certificate and its private
// key: Microsoft Entra accepts a JWT signed with the key (a "client
// assertion") in place of a client secret.
type ClientCertificate struct {
	Thumbprint string // SHA-1 of the certificate, hex, as Entra lists it
	cert       *x509.Certificate
	key        *rsa.PrivateKey
}

// ParseClientCertificate reads a PEM file holding the certificate and its
// RSA private key (unencrypted). The error says what is missing.
func ParseClientCertificate(data []byte) (ClientCertificate, error) {
	var c ClientCertificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		switch block.Type {
		case "CERTIFICATE":
			if c.cert == nil {
				cert, err := x509.ParseCertificate(block.Bytes)
				if err != nil {
					return ClientCertificate{}, errors.New("the file's certificate cannot be read (" + err.Error() + ")")
				}
				c.cert = cert
			}
		case "PRIVATE KEY", "RSA PRIVATE KEY":
			parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
			}
			key, ok := parsed.(*rsa.PrivateKey)
			if err != nil || !ok {
				return ClientCertificate{}, errors.New("the file's private key is not an unencrypted RSA key")
			}
			c.key = key
		case "ENCRYPTED PRIVATE KEY":
			return ClientCertificate{}, errors.New("the file's private key is encrypted: export it without a password")
		}
	}
	if c.cert == nil || c.key == nil {
		return ClientCertificate{}, errors.New("the file must hold both the certificate and its private key in PEM")
	}
	if pub, ok := c.cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&c.key.PublicKey) {
		return ClientCertificate{}, errors.New("the private key does not belong to the certificate")
	}
	sum := sha1.Sum(c.cert.Raw)
	c.Thumbprint = strings.ToUpper(hex.EncodeToString(sum[:]))
	return c, nil
}

// ClientAssertion is the client-credentials flow authenticated with a
// certificate instead of a secret.
type ClientAssertion struct {
	TokenURL string
	ClientID string
	Cert     ClientCertificate
	Scope    string
}

// assertionValid is how long a client assertion is accepted; it is used
// once, at once.
const assertionValid = 10 * time.Minute

func (c ClientAssertion) fetch(ctx context.Context, hc *http.Client, now time.Time) (Token, error) {
	sum := sha1.Sum(c.Cert.cert.Raw) // x5t: Entra finds the certificate by its SHA-1 thumbprint
	assertion, err := signJWT(c.Cert.key, map[string]string{"x5t": base64.RawURLEncoding.EncodeToString(sum[:])}, map[string]any{
		"aud": c.TokenURL,
		"iss": c.ClientID,
		"sub": c.ClientID,
		"jti": rand.Text(),
		"nbf": now.Unix(),
		"iat": now.Unix(),
		"exp": now.Add(assertionValid).Unix(),
	})
	if err != nil {
		return Token{}, err
	}
	return postForm(ctx, hc, c.TokenURL, url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {c.ClientID},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
		"scope":                 {c.Scope},
	}, now)
}
