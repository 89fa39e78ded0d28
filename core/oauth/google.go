package oauth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// GoogleScope is full mail access, the scope Gmail's SMTP accepts.
const GoogleScope = "https://mail.google.com/"

// ServiceAccountKey is what the flow needs from a Google service
// account's JSON key file.
type ServiceAccountKey struct {
	ClientEmail string
	TokenURI    string
	KeyID       string
	key         *rsa.PrivateKey
}

// ParseServiceAccountKey reads a JSON key file as Google Cloud's console
// downloads it. The error says, in a sentence, what is wrong with it.
func ParseServiceAccountKey(data []byte) (ServiceAccountKey, error) {
	var f struct {
		Type         string `json:"type"`
		ClientEmail  string `json:"client_email"`
		PrivateKey   string `json:"private_key"`
		PrivateKeyID string `json:"private_key_id"`
		TokenURI     string `json:"token_uri"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return ServiceAccountKey{}, errors.New("the file is not a JSON key file (" + err.Error() + ")")
	}
	if f.Type != "service_account" || f.ClientEmail == "" || f.PrivateKey == "" {
		return ServiceAccountKey{}, errors.New("the file is not a service account's key: download a JSON key under the service account's Keys tab")
	}
	if u, err := url.Parse(f.TokenURI); err != nil || u.Scheme != "https" || u.Host == "" {
		return ServiceAccountKey{}, errors.New("the key file's token_uri is not an https address")
	}
	block, _ := pem.Decode([]byte(f.PrivateKey))
	if block == nil {
		return ServiceAccountKey{}, errors.New("the key file's private_key is not a PEM key")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if err != nil || !ok {
		return ServiceAccountKey{}, errors.New("the key file's private_key is not an RSA key")
	}
	return ServiceAccountKey{ClientEmail: f.ClientEmail, TokenURI: f.TokenURI, KeyID: f.PrivateKeyID, key: key}, nil
}

// ServiceAccount is Google's service-account flow with domain-wide
// delegation: a JWT signed with the account's key asks for a token acting
// as Subject, the mailbox the station sends as.
type ServiceAccount struct {
	Key     ServiceAccountKey
	Subject string
	Scope   string // GoogleScope
}

// assertionLife is the JWT's lifetime; Google accepts at most an hour.
const assertionLife = time.Hour

func (sa ServiceAccount) fetch(ctx context.Context, hc *http.Client, now time.Time) (Token, error) {
	assertion, err := signJWT(sa.Key.key, map[string]string{"kid": sa.Key.KeyID}, map[string]any{
		"iss":   sa.Key.ClientEmail,
		"sub":   sa.Subject,
		"scope": sa.Scope,
		"aud":   sa.Key.TokenURI,
		"iat":   now.Unix(),
		"exp":   now.Add(assertionLife).Unix(),
	})
	if err != nil {
		return Token{}, err
	}
	return postForm(ctx, hc, sa.Key.TokenURI, url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {assertion},
	}, now)
}

// signJWT makes a compact RS256 JWS of claims; extra adds header fields.
func signJWT(key *rsa.PrivateKey, extra map[string]string, claims map[string]any) (string, error) {
	header := map[string]string{"alg": "RS256", "typ": "JWT"}
	for k, v := range extra {
		if v != "" {
			header[k] = v
		}
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// VerifyJWT checks an RS256 JWT against pub and returns its header and
// claims; the tests' token endpoint uses it as Google's and Microsoft's do.
func VerifyJWT(token string, pub *rsa.PublicKey) (header, claims map[string]any, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, errors.New("not a compact JWT")
	}
	enc := base64.RawURLEncoding
	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return nil, nil, err
	}
	for i, into := range []*map[string]any{&header, &claims} {
		raw, err := enc.DecodeString(parts[i])
		if err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal(raw, into); err != nil {
			return nil, nil, err
		}
	}
	return header, claims, nil
}
