package signtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// TSA is an RFC 3161 time-stamping server on 127.0.0.1 for one test. It
// answers with OpenSSL's own implementation (openssl ts -reply), signed by
// the PKI's time-stamping certificate: a real server's answer, and not one
// written alongside the code it checks.
type TSA struct {
	URL string

	mu     sync.Mutex
	served int
}

// Served is the number of timestamps granted so far.
func (t *TSA) Served() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.served
}

// ServeTSA starts the server until the test ends, or skips the test when
// the openssl command is missing.
func ServeTSA(tb testing.TB, p PKI) *TSA {
	tb.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		tb.Skip("the openssl command is not installed; the time-stamping server for the test cannot run")
	}
	dir := tb.TempDir()
	conf := filepath.Join(dir, "tsa.cnf")
	if err := os.WriteFile(conf, []byte(`[ tsa ]
default_tsa = test_tsa
[ test_tsa ]
serial = `+filepath.Join(dir, "serial")+`
signer_cert = `+p.TSACertFile+`
signer_key = `+p.TSAKeyFile+`
signer_digest = sha256
default_policy = 1.3.6.1.4.1.4146.2.3
digests = sha256, sha384, sha512, sha1
accuracy = secs:1
ess_cert_id_alg = sha256
`), 0o600); err != nil {
		tb.Fatal(err)
	}
	t := &TSA{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
			http.Error(w, "POST an application/timestamp-query", http.StatusBadRequest)
			return
		}
		query, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// One at a time: openssl keeps the serial number in a file.
		t.mu.Lock()
		defer t.mu.Unlock()
		in, out := filepath.Join(dir, "query.tsq"), filepath.Join(dir, "reply.tsr")
		if err := os.WriteFile(in, query, 0o600); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if msg, err := exec.Command("openssl", "ts", "-reply", "-config", conf, "-queryfile", in, "-out", out).CombinedOutput(); err != nil {
			http.Error(w, "openssl ts -reply: "+string(msg), http.StatusInternalServerError)
			return
		}
		reply, err := os.ReadFile(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		t.served++
		w.Header().Set("Content-Type", "application/timestamp-reply")
		_, _ = w.Write(reply)
	}))
	tb.Cleanup(srv.Close)
	t.URL = srv.URL
	return t
}
