//go:build !windows

package support_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"adhocstation/agent/support"
	"adhocstation/core/wire"
)

// A rate-limited code is asked again with the wait in plain words, and
// nothing is created until a code is accepted (here: never; the user stops).
func TestRateLimitedAsksAgainWithWait(t *testing.T) {
	var tries atomic.Int32
	srv := tlsServer(t, 0, func(w http.ResponseWriter, r *http.Request) {
		tries.Add(1)
		w.Header().Set("Retry-After", "42")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"code":"rate_limited","message":"Too many attempts.","retry_after_seconds":42}`))
	})
	program, err := wire.AppendDetails([]byte("MZ"), wire.Details{StationURL: srv.URL, Pins: []string{pinOf(srv)}, Token: "tok",
		Technician: wire.Technician{Name: "Ana", Email: "ana@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(t.TempDir(), program, wire.Facts{OSName: "Windows 11 Pro"}, "123456789")
	app := &support.App{Sys: rec, UI: rec, Clock: newFakeClock(time.Unix(0, 0)), Code: "111111111"}
	if err := app.Run(context.Background()); !errors.Is(err, support.ErrCancelled) {
		t.Fatalf("Run = %v, want ErrCancelled after the user stops", err)
	}
	_, problems, _, accounts, _ := rec.snapshot()
	if tries.Load() != 2 || len(problems) != 2 || !strings.Contains(problems[0], "Wait 42 seconds") || len(accounts) != 0 {
		t.Errorf("tries %d problems %q accounts %v", tries.Load(), problems, accounts)
	}
	// The same answer comes for a station-wide flood, so the sentence must
	// not tell the user that their computer alone is to blame.
	if len(problems) > 0 && strings.Contains(problems[0], "Too many attempts from this computer.") {
		t.Errorf("the wait blames this computer alone: %q", problems[0])
	}
}
