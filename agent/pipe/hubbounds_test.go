//go:build linux

package pipe_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adhocstation/agent/agenttest"
	"adhocstation/agent/pipe"
	"adhocstation/core/coretest"
)

// TestHubBoundsPipeFrames: any interactive user may connect to the pipe,
// and the service runs as SYSTEM, so a frame longer than any helper sends
// (here a chat of 1 MiB, on Windows it could be gigabytes) is not read
// whole: the hub closes that connection instead of buffering and
// cleaning it.
func TestHubBoundsPipeFrames(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "AdHocSupport.pipe")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	hub := pipe.NewHub(agenttest.PeerCred)
	go hub.Serve(ln)
	t.Cleanup(hub.Close)
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(`{"hello":"tray","can_chat":true}` + "\n")); err != nil {
		t.Fatal(err)
	}
	huge, _ := json.Marshal(map[string]any{"chat": map[string]string{"text": strings.Repeat("a", 1<<20)}})
	go func() { _, _ = c.Write(append(huge, '\n')) }() // the hub may stop reading part-way
	_ = c.SetReadDeadline(time.Now().Add(coretest.WaitLimit))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the hub kept the connection that sent a 1 MiB frame")
			}
			return // closed by the hub
		}
		if strings.Contains(string(line), "chat_too_long") {
			t.Fatalf("the hub read the 1 MiB frame whole and answered it: %.200s", line)
		}
	}
}
