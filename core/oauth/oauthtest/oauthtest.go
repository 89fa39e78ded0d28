// Package oauthtest runs a real OAuth 2.0 token endpoint over HTTPS on
// 127.0.0.1 for tests: Microsoft's client-credentials grant and Google's
// JWT bearer grant (the JWT's RS256 signature checked with the service
// account's public key), counting fetches and remembering what it issued.
package oauthtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"adhocstation/core/oauth"
)

// Test credentials the endpoint accepts.
const (
	ClientID       = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
	ClientSecret   = "Xq8~client-Secret-Value-77"
	Tenant         = "contoso.onmicrosoft.com"
	ServiceAccount = "station-mail@station-project.iam.gserviceaccount.com"
)

// Server is a running token endpoint.
type Server struct {
	*httptest.Server
	tb   testing.TB
	key  *rsa.PrivateKey // the service account's key, and the app certificate's
	cert *x509.Certificate

	mu       sync.Mutex
	fetches  int
	issued   map[string]bool
	lifetime int // expires_in, seconds
	refuse   string
	subjects []string
}

// Start runs an endpoint until the test ends. Tokens live an hour.
func Start(tb testing.TB) *Server {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Ad Hoc Support Station mail"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{tb: tb, key: key, cert: cert, issued: map[string]bool{}, lifetime: 3600}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// MicrosoftURL is the endpoint as a Microsoft tenant's token URL.
func (s *Server) MicrosoftURL() string { return s.URL + "/" + Tenant + "/oauth2/v2.0/token" }

// GoogleURL is the endpoint as a key file's token_uri.
func (s *Server) GoogleURL() string { return s.URL + "/token" }

// KeyFile is a service account JSON key file whose token_uri is this
// endpoint.
func (s *Server) KeyFile() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(s.key)
	if err != nil {
		s.tb.Fatal(err)
	}
	raw, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "station-project", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": ServiceAccount, "client_id": "104233", "token_uri": s.GoogleURL(),
	})
	if err != nil {
		s.tb.Fatal(err)
	}
	return raw
}

// SetLifetime sets expires_in of the tokens issued from now on.
func (s *Server) SetLifetime(seconds int) {
	s.mu.Lock()
	s.lifetime = seconds
	s.mu.Unlock()
}

// Refuse makes every request fail with this OAuth error code (HTTP 401
// for invalid_client, else 400); "" accepts again.
func (s *Server) Refuse(code string) {
	s.mu.Lock()
	s.refuse = code
	s.mu.Unlock()
}

// Fetches counts the tokens issued.
func (s *Server) Fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// Subjects lists the sub claim of each Google assertion accepted.
func (s *Server) Subjects() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.subjects...)
}

// Valid reports whether token was issued by this endpoint: the mail
// server's check (mailtest.Server.AcceptTokens).
func (s *Server) Valid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued[token]
}

// Revoke makes every token issued so far invalid.
func (s *Server) Revoke() {
	s.mu.Lock()
	s.issued = map[string]bool{}
	s.mu.Unlock()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refuse := s.refuse
	s.mu.Unlock()
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		fail(w, http.StatusBadRequest, "invalid_request", "POST a form")
		return
	}
	if refuse != "" {
		status := http.StatusBadRequest
		if refuse == "invalid_client" {
			status = http.StatusUnauthorized
		}
		fail(w, status, refuse, "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 0f1e")
		return
	}
	var sub string
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
		if r.URL.Path != "/"+Tenant+"/oauth2/v2.0/token" {
			fail(w, http.StatusBadRequest, "invalid_request", "AADSTS90002: Tenant not found.")
			return
		}
		if r.PostForm.Get("client_id") != ClientID || !s.clientAuthenticated(r) {
			fail(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
			return
		}
		if r.PostForm.Get("scope") != oauth.MicrosoftScope {
			fail(w, http.StatusBadRequest, "invalid_scope", "wrong scope "+r.PostForm.Get("scope"))
			return
		}
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		_, claims, err := oauth.VerifyJWT(r.PostForm.Get("assertion"), &s.key.PublicKey)
		if err != nil || claims["iss"] != ServiceAccount || claims["aud"] != s.GoogleURL() || claims["scope"] != oauth.GoogleScope {
			fail(w, http.StatusBadRequest, "invalid_grant", fmt.Sprintf("Invalid JWT: %v %v", err, claims))
			return
		}
		sub, _ = claims["sub"].(string)
	default:
		fail(w, http.StatusBadRequest, "unsupported_grant_type", r.PostForm.Get("grant_type"))
		return
	}
	s.mu.Lock()
	s.fetches++
	tok := fmt.Sprintf("access-token-%d-%s", s.fetches, rand.Text())
	s.issued[tok] = true
	if sub != "" {
		s.subjects = append(s.subjects, sub)
	}
	life := s.lifetime
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": life})
}

// clientAuthenticated accepts the client secret, or a client assertion
// signed by the certificate's key, naming it by its SHA-1 (x5t), addressed
// to this endpoint and not expired.
func (s *Server) clientAuthenticated(r *http.Request) bool {
	if r.PostForm.Get("client_assertion") == "" {
		return r.PostForm.Get("client_secret") == ClientSecret
	}
	if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return false
	}
	header, claims, err := oauth.VerifyJWT(r.PostForm.Get("client_assertion"), &s.key.PublicKey)
	if err != nil {
		return false
	}
	sum := sha1.Sum(s.cert.Raw)
	return header["x5t"] == base64.RawURLEncoding.EncodeToString(sum[:]) && claims["iss"] == ClientID &&
		claims["sub"] == ClientID && claims["aud"] == s.MicrosoftURL() && claims["jti"] != nil
}

// CertificateFile is the app registration's certificate and its private
// key in one PEM file, as the station takes it.
func (s *Server) CertificateFile() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(s.key)
	if err != nil {
		s.tb.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.cert.Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})...)
}

func fail(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}
