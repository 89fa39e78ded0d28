//go:build !windows

// The station side of the rig imports core (SQLite, cgo), so it stays out
// of the Windows vet of ./agent/...

package agenttest

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

	"github.com/hashicorp/yamux"

	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/pairing"
)

// FakeProgram stands in for the Windows build inside the station's download.
var FakeProgram = []byte("MZ the Support Session app")

// ServeStation starts the real pairing service for st on 127.0.0.1, with
// FastChannel's keepalive.
func ServeStation(t testing.TB, st *core.Station) *pairing.Server {
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := pairing.Start(ctx, st, pairing.Options{ListenAddr: "127.0.0.1:0", AgentExe: FakeProgram,
		ChannelKeepAlive: FastChannel.KeepAlive, ChannelTimeout: FastChannel.Timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); srv.Close() })
	return srv
}

// Download fetches the app from the deployment link as a browser would
// (trusting the station's key by its pin), trailer and all.
func Download(t testing.TB, srv *pairing.Server, token string) []byte {
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

// FastChannel makes the live channel notice a cut within about 3 s and
// reconnect quickly, so tests wait briefly (their waits have deadlines of
// coretest.WaitLimit). The answer to a ping may take up to 3 s: with 100 ms
// a loaded machine running -race dropped healthy channels, and a request
// in flight failed with "the connection to the PC was closed".
var FastChannel = support.ChannelTiming{KeepAlive: 200 * time.Millisecond, Timeout: 3 * time.Second,
	MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}

// LiveChannel opens the live channel of the PC paired with agentKey to
// srv, as the app does (support.Client), with timing, and returns the
// PC's end; it closes with the test.
func LiveChannel(t testing.TB, srv *pairing.Server, agentKey string, timing support.ChannelTiming) *yamux.Session {
	t.Helper()
	c, err := support.NewClient(srv.URL(), srv.Pins())
	if err != nil {
		t.Fatal(err)
	}
	ys, _, err := c.OpenChannel(t.Context(), agentKey, timing)
	if err != nil || ys == nil {
		t.Fatalf("live channel: %v", err)
	}
	t.Cleanup(func() { ys.Close() })
	return ys
}
