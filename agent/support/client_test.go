package support_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"adhocstation/agent/support"
	"adhocstation/core/wire"
)

func pinOf(srv *httptest.Server) string {
	sum := sha256.Sum256(srv.Certificate().RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func tlsServer(t *testing.T, maxVersion uint16, h http.HandlerFunc) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{MaxVersion: maxVersion}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestNewClientRefusesBadDetails(t *testing.T) {
	good := "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
	for name, c := range map[string]struct {
		url  string
		pins []string
	}{
		"plain http": {"http://station:8443", []string{good}},
		"no pin":     {"https://station:8443", nil},
		"broken pin": {"https://station:8443", []string{"not base64!"}},
		"three pins": {"https://station:8443", []string{good, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564="}},
		"not a URL":  {"https://", []string{good}},
	} {
		if _, err := support.NewClient(c.url, c.pins); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestClientRefusesTLS12(t *testing.T) {
	srv := tlsServer(t, tls.VersionTLS12, func(w http.ResponseWriter, r *http.Request) { t.Error("a TLS 1.2 request got through") })
	c, err := support.NewClient(srv.URL, []string{pinOf(srv)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Agent(context.Background(), support.PathHeartbeat, "key", "")
	var off *support.OfflineError
	if !errors.As(err, &off) {
		t.Fatalf("err = %v, want the handshake refused", err)
	}
}

func TestClientPinsAndRefusals(t *testing.T) {
	srv := tlsServer(t, 0, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case wire.APIPrefix + support.PathPair:
			w.Header().Set("Retry-After", "42")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"code":"rate_limited","message":"Too many attempts."}`))
		case wire.APIPrefix + support.PathHeartbeat:
			w.Write([]byte(`{"state":"active","connected":true}`))
		default:
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte(`<html>proxy error</html>`))
		}
	})
	// The second pin is the served one: a rotated certificate still works.
	c, err := support.NewClient(srv.URL, []string{"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", pinOf(srv)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = c.Pair(ctx, wire.PairRequest{Token: "t", Code: "123456789"})
	var w *wire.Error
	if !errors.As(err, &w) || w.Code != wire.CodeRateLimited || w.RetryAfterSeconds != 42 {
		t.Errorf("pair: %v (%+v), want rate_limited with 42 s from Retry-After", err, w)
	}
	if s, err := c.Agent(ctx, support.PathHeartbeat, "key", ""); err != nil || s.State != "active" || !s.Connected {
		t.Errorf("heartbeat: %+v, %v", s, err)
	}
	var off *support.OfflineError
	if _, err := c.Agent(ctx, support.PathEnd, "key", ""); !errors.As(err, &off) {
		t.Errorf("a non-API answer: %v, want OfflineError", err)
	}

	wrong, err := support.NewClient(srv.URL, []string{"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Agent(ctx, support.PathHeartbeat, "key", ""); !errors.Is(err, support.ErrWrongStation) {
		t.Errorf("wrong pin: %v, want ErrWrongStation", err)
	}
}
