package support_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"adhocstation/agent/support"
	"adhocstation/core/wire"
)

func TestConsoleUI(t *testing.T) {
	in, feed := io.Pipe()
	var out strings.Builder
	c := support.NewConsole(in, &lockedWriter{b: &out}, false)
	ctx := context.Background()
	go func() { io.WriteString(feed, "yes\n482 193 657\n\nend\n") }()
	if ok, err := c.Consent(ctx, support.Consent{Text: "hidden Administrator account"}); !ok || err != nil {
		t.Fatalf("consent: %v %v", ok, err)
	}
	if code, err := c.AskCode(ctx, support.CodeRequest{Technician: wire.Technician{Name: "Ana"}}); code != "482 193 657" || err != nil {
		t.Fatalf("code: %q %v", code, err)
	}
	if _, err := c.AskCode(ctx, support.CodeRequest{Problem: "4 tries left"}); !errors.Is(err, support.ErrCancelled) {
		t.Fatalf("empty line: %v, want ErrCancelled", err)
	}
	c.ShowStatus(support.Status{State: support.TrayWaiting, TimeLeft: 24 * time.Hour})
	select {
	case <-c.EndRequested():
	case <-time.After(10 * time.Second): // a hang guard: "end" was typed long ago
		t.Fatal("typing end did not ask to end the session")
	}
	if s := out.String(); !strings.Contains(s, "hidden Administrator account") || !strings.Contains(s, "4 tries left") ||
		!strings.Contains(s, "24 h 0 min left") {
		t.Errorf("console showed:\n%s", s)
	}
}

func TestTimeLeft(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour:                  "24 h 0 min left",
		23*time.Hour + 59*time.Minute:   "23 h 59 min left",
		14*time.Minute + 31*time.Second: "15 min left",
		20 * time.Second:                "less than a minute left",
		0:                               "ending now",
	} {
		if got := support.TimeLeft(d); got != want {
			t.Errorf("TimeLeft(%v) = %q, want %q", d, got, want)
		}
	}
}

// lockedWriter lets the console's reader goroutine and the test share a buffer.
type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
