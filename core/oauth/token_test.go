package oauth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"adhocstation/core/oauth"
	"adhocstation/core/oauth/oauthtest"
)

func endpoint(t *testing.T, status int, body string) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestExpiresInAsAString(t *testing.T) {
	srv := endpoint(t, 200, `{"access_token":"t1","expires_in":"600"}`)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	src := oauth.NewSource(oauth.ClientCredentials{TokenURL: srv.URL, ClientID: "c", ClientSecret: "s"}, srv.Client(), clock)
	if tok, err := src.Token(t.Context()); err != nil || tok != "t1" {
		t.Fatal(tok, err)
	}
	// 10-minute tokens: kept 5 minutes, then replaced.
	now = now.Add(4 * time.Minute)
	if _, err := src.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if _, err := src.Token(t.Context()); err != nil {
		t.Fatalf("a cached token needs no request: %v", err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := src.Token(t.Context()); err == nil {
		t.Fatal("a token 4 minutes from expiry was not refreshed")
	}
}

func TestEndpointTroubleIsTemporary(t *testing.T) {
	srv := endpoint(t, 503, `<html>Service Unavailable</html>`)
	_, err := oauth.NewSource(oauth.ClientCredentials{TokenURL: srv.URL}, srv.Client(), nil).Token(t.Context())
	var oe *oauth.Error
	if !errors.As(err, &oe) || !oe.Temporary() || !strings.Contains(oe.Error(), "HTTP 503") {
		t.Fatalf("%v", err)
	}
	srv = endpoint(t, 400, `{"error":"invalid_grant","error_description":"Invalid JWT Signature.\r\nTrace ID: 1"}`)
	_, err = oauth.NewSource(oauth.ClientCredentials{TokenURL: srv.URL}, srv.Client(), nil).Token(t.Context())
	if !errors.As(err, &oe) || oe.Temporary() || oe.Code != "invalid_grant" || strings.Contains(oe.Error(), "Trace") {
		t.Fatalf("%v", err)
	}
}

func TestParseCredentialsRefusals(t *testing.T) {
	a, b := oauthtest.Start(t), oauthtest.Start(t)
	// b's certificate with a's key.
	certA, certB := string(a.CertificateFile()), string(b.CertificateFile())
	mixed := certB[:strings.Index(certB, "-----BEGIN PRIVATE KEY")] + certA[strings.Index(certA, "-----BEGIN PRIVATE KEY"):]
	for name, tc := range map[string]struct {
		data string
		want string
	}{
		"KeyOfAnotherCertificate": {mixed, "does not belong to the certificate"},
		"EncryptedKey":            {"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", "encrypted"},
		"Nothing":                 {"hello", "both the certificate and its private key"},
	} {
		if _, err := oauth.ParseClientCertificate([]byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if c, err := oauth.ParseClientCertificate(a.CertificateFile()); err != nil || len(c.Thumbprint) != 40 {
		t.Errorf("a good file: %+v %v", c, err)
	}
	for name, data := range map[string]string{
		"NotJSON":        "-----BEGIN PRIVATE KEY-----",
		"UserCredential": `{"type":"authorized_user","client_id":"x"}`,
		"HTTPTokenURI":   strings.Replace(string(a.KeyFile()), "https://", "http://", 1),
	} {
		if _, err := oauth.ParseServiceAccountKey([]byte(data)); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
