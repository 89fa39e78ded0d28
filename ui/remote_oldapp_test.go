package ui

import (
	"bufio"
	"encoding/json"
	"net"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/hashicorp/yamux"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/remote"
	"adhocstation/core/wire"
)

// oldAppStream answers a stream as the Support Session app did before
// Files, Chat and Screen: a sign-in is checked and answered without a
// list of streams, its stream answers System requests, and an attached
// stream without a command is answered "that remote session is closed"
// (its dispatch took every attach for a command).
func oldAppStream(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	enc := json.NewEncoder(conn)
	line, err := r.ReadSlice('\n')
	var in wire.SignIn
	if err != nil || json.Unmarshal(line, &in) != nil {
		return
	}
	switch {
	case in.Attach != "" && in.Command == nil:
		_ = enc.Encode(wire.SignInResult{Code: wire.CodeSessionClosed, Message: "that remote session is closed"})
		return
	case in.Attach != "":
		return // no command runs in this test
	case in.Password != coretest.Password:
		_ = enc.Encode(wire.SignInResult{Code: wire.CodeWrongPassword, Message: "the account refused the password"})
		return
	}
	if enc.Encode(wire.SignInResult{OK: true, Key: "old-app-key"}) != nil {
		return
	}
	info, _ := (&remoteTestPC{}).SystemInfo()
	for {
		if _, err := r.ReadSlice('\n'); err != nil {
			return
		}
		if enc.Encode(wire.Reply{System: &info}) != nil {
			return
		}
	}
}

// oldAppOpen opens a remote window on a PC whose live channel is the real
// agent client's, with oldAppStream answering its streams.
func oldAppOpen(t *testing.T) (*remoteWindow, *workWatch) {
	t.Helper()
	st, _, s, sub := pagesTestComputers(t)
	watch := watchWork(&s.work)
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	deliverUntil(t, sub, s.onEvent, core.EventPrepared)
	s.list.Select(0)
	ys := remoteTestChannel(t, st, prep)
	go func(ys *yamux.Session) {
		for {
			conn, err := ys.Accept()
			if err != nil {
				return
			}
			go oldAppStream(conn)
		}
	}(ys)
	deliverUntil(t, sub, s.onEvent, core.EventPaired)
	remoteTestConnect(t, s, watch, coretest.Password)
	watch.wait(t, jobSystem)
	if len(s.remotes) != 1 {
		t.Fatalf("%d remote windows; want one", len(s.remotes))
	}
	r := s.remotes[0]
	t.Cleanup(r.win.Close)
	return r, watch
}

// A PC running an app from before Files, Chat and Screen refuses their
// streams as if the session were closed; each tab says the app is older
// instead of "The connection to the PC was closed" (the Chat tab as soon
// as its stream is refused, and again on Send), and the System tab
// (the same connection) still works.
func TestRemoteOldAppTabs(t *testing.T) {
	r, watch := oldAppOpen(t)

	c := r.chat
	select {
	case <-c.ready:
	case <-time.After(coretest.WaitLimit):
		t.Fatal("the chat stream's open never finished")
	}
	// The tab says so before anything is sent (applied before ready closed).
	if !c.notice.Visible() || c.notice.Text != remote.ErrOldAppChat.Message {
		t.Errorf("the Chat tab of an older app says %q (visible %v) before Send, want %q", c.notice.Text, c.notice.Visible(), remote.ErrOldAppChat.Message)
	}
	c.notice.Hide()
	c.tabs.Select(c.item)
	test.Type(c.entry, "Hello, Anna?")
	watch.during(t, jobChatSend, func() { test.Tap(c.send) })
	if !c.notice.Visible() || c.notice.Text != remote.ErrOldAppChat.Message {
		t.Errorf("Send to an older app's chat says %q (visible %v), want %q", c.notice.Text, c.notice.Visible(), remote.ErrOldAppChat.Message)
	}
	if c.entry.Text != "Hello, Anna?" {
		t.Errorf("the refused message left the entry: %q", c.entry.Text)
	}

	for _, it := range r.tabs.Items {
		if it.Text == "Files" {
			watch.during(t, jobFilesList, func() { r.tabs.Select(it) })
		}
	}
	if f := r.files; !f.status.Visible() || f.status.Text != remote.ErrOldAppFiles.Message {
		t.Errorf("the Files tab on an older app says %q (visible %v), want %q", f.status.Text, f.status.Visible(), remote.ErrOldAppFiles.Message)
	}

	s := r.screen
	watch.during(t, jobScreenStart, func() { test.Tap(s.start) })
	if !s.status.Visible() || s.status.Text != remote.ErrOldAppScreen.Message || s.screen != nil || s.start.Disabled() {
		t.Errorf("Start viewing on an older app says %q (visible %v), want %q and Start enabled", s.status.Text, s.status.Visible(), remote.ErrOldAppScreen.Message)
	}

	watch.during(t, jobSystem, func() { test.Tap(r.refresh) })
	if r.status.Visible() {
		t.Errorf("the System tab fails on the older app: %q", r.status.Text)
	}
}
