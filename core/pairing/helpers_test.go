package pairing

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

// fakeExe stands in for the Windows build, which `go test` may not have.
var fakeExe = append([]byte("MZ\x90\x00 fake Support Session app "), bytes.Repeat([]byte{0xCC}, 4096)...)

// env is a real station on a temporary folder with the pairing service on
// 127.0.0.1 and a client that trusts exactly the served key.
type env struct {
	t      *testing.T
	st     *core.Station
	clock  *coretest.Clock
	srv    *Server
	client *http.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, clock := coretest.Open(t)
	return startEnv(t, st, clock, Options{})
}

func startEnv(t *testing.T, st *core.Station, clock *coretest.Clock, opts Options) *env {
	t.Helper()
	if opts.ListenAddr == "" {
		opts.ListenAddr = "127.0.0.1:0"
	}
	if opts.AgentExe == nil {
		opts.AgentExe = fakeExe
	}
	srv, err := Start(t.Context(), st, opts)
	if err != nil {
		t.Fatalf("start pairing service: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return &env{t: t, st: st, clock: clock, srv: srv, client: pinnedClient(srv.Pins(), nil)}
}

// pinnedClient checks the server's key against pins the way the app does;
// local, if set, is the source address to dial from.
func pinnedClient(pins []string, local net.Addr) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext: (&net.Dialer{LocalAddr: local}).DialContext,
			TLSClientConfig: &tls.Config{
				MinVersion:         tls.VersionTLS13,
				InsecureSkipVerify: true, // replaced by the pin check below
				VerifyConnection: func(cs tls.ConnectionState) error {
					if len(cs.PeerCertificates) == 0 || !slices.Contains(pins, Pin(cs.PeerCertificates[0])) {
						return errors.New("the station's certificate does not match the pin")
					}
					return nil
				},
			},
			// HTTP/1.1, as the Support Session app speaks.
			ForceAttemptHTTP2: false,
		},
	}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// wireError decodes a refusal's body, failing the test if it is not one.
func (r reply) wireError(t *testing.T) wire.Error {
	t.Helper()
	var e wire.Error
	if err := json.Unmarshal(r.body, &e); err != nil || e.Code == "" || e.Message == "" {
		t.Fatalf("status %d: not a refusal body: %q (%v)", r.status, r.body, err)
	}
	return e
}

func (e *env) post(path string, body any) reply {
	e.t.Helper()
	raw, ok := body.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			e.t.Fatal(err)
		}
	}
	return e.do(http.MethodPost, path, "application/json", raw)
}

func (e *env) do(method, path, contentType string, body []byte) reply {
	e.t.Helper()
	return doWith(e.t, e.client, method, e.srv.URL()+path, contentType, body)
}

func doWith(t testing.TB, c *http.Client, method, url, contentType string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, url, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func pairBody(token, code string) wire.PairRequest {
	f := coretest.WindowsPC
	return wire.PairRequest{Token: token, Code: code, Facts: wire.Facts{Hostname: f.Hostname, OSName: f.OSName,
		OSVersion: f.OSVersion, Arch: f.Arch, WindowsUser: f.WindowsUser, MachineID: f.MachineID}}
}
