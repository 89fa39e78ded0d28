//go:build !windows

// The station side of the tests imports core (SQLite, cgo), so it stays out
// of the Windows vet of ./agent/...

package support_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"adhocstation/agent/support"

	"adhocstation/core"
	"adhocstation/core/pairing"
)

// fakeProgram stands in for the Windows build inside the station's download.
var fakeProgram = []byte("MZ the Support Session app")

// serveStation starts the real pairing service for st on 127.0.0.1.
func serveStation(t testing.TB, st *core.Station) *pairing.Server {
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := pairing.Start(ctx, st, pairing.Options{ListenAddr: "127.0.0.1:0", AgentExe: fakeProgram,
		ChannelKeepAlive: fastChannel.KeepAlive, ChannelTimeout: fastChannel.Timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); srv.Close() })
	return srv
}

// download fetches the app from the deployment link as a browser would
// (trusting the station's key by its pin), trailer and all.
func download(t testing.TB, srv *pairing.Server, token string) []byte {
	pins := srv.Pins()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS13,
		InsecureSkipVerify: true, // the pin below is the check
		VerifyConnection: func(cs tls.ConnectionState) error {
			sum := sha256.Sum256(cs.PeerCertificates[0].RawSubjectPublicKeyInfo)
			if !slices.Contains(pins, base64.StdEncoding.EncodeToString(sum[:])) {
				return errors.New("not the station")
			}
			return nil
		}}}}
	resp, err := client.Get(srv.URL() + "/join/" + token + "/download")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download: HTTP %d, %v: %s", resp.StatusCode, err, b)
	}
	return b
}

// fastChannel makes the live channel notice a cut within about 3 s and
// reconnect quickly, so tests wait briefly (their waits have deadlines of
// coretest.WaitLimit). The answer to a ping may take up to 3 s: with 100 ms
// a loaded machine running -race dropped healthy channels, and a request
// in flight failed with "the connection to the PC was closed".
var fastChannel = support.ChannelTiming{KeepAlive: 200 * time.Millisecond, Timeout: 3 * time.Second,
	MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
