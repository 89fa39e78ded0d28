package hubsrv_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"adhocstation/core/hublink"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

const downloadSize = 10 << 20

// pattern is byte i of the test download: not all zeros, so a shifted or
// truncated copy does not match.
func pattern(i int) byte { return byte(i*7 + i/251) }

func patternSum() [32]byte {
	b := make([]byte, downloadSize)
	for i := range b {
		b[i] = pattern(i)
	}
	return sha256.Sum256(b)
}

// stationWeb serves the station's web side on l.HTTP() with a real
// http.Server, as the pairing service would: a join page that tells what
// it saw of the browser, a form, and a 10 MB download that holds back its
// last 9 MB until firstMB is closed (by the browser having read the first
// MB: the hub must stream, not buffer the whole answer).
func stationWeb(t *testing.T, l *hublink.Link, firstMB chan struct{}) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /join/{tok}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<h1>Join %s</h1>\nxff=%s\nremote=%s\nprefix=%s\nquery=%s\n", r.PathValue("tok"),
			r.Header.Get("X-Forwarded-For"), r.RemoteAddr, r.Header.Get("X-Forwarded-Prefix"), r.URL.RawQuery)
	})
	mux.HandleFunc("POST /join/{tok}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "got %d bytes: %s", len(b), b[:min(len(b), 20)])
	})
	mux.HandleFunc("GET /download/app.exe", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.microsoft.portable-executable")
		w.Header().Set("Content-Length", fmt.Sprint(downloadSize))
		buf := make([]byte, 64<<10)
		for off := 0; off < downloadSize; off += len(buf) {
			if off == 1<<20 {
				w.(http.Flusher).Flush()
				select {
				case <-firstMB:
				case <-r.Context().Done():
					return
				}
			}
			for i := range buf {
				buf[i] = pattern(off + i)
			}
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l.HTTP()) }()
	t.Cleanup(func() {
		hs.Close()
		// ErrClosed: the link was closed first, which closes its listeners.
		if err := <-served; !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("station web Serve: %v", err)
		}
	})
}

// TestWebThroughHub: a browser gets the station's join page and its 10 MB
// download from https://HUB/st/ID/…, in the hub's TLS; the station sees the
// browser's own address, never one the browser claims.
func TestWebThroughHub(t *testing.T) {
	h := startHub(t)
	st := h.enrol(t)
	l := h.link(t, st)
	firstMB := make(chan struct{})
	stationWeb(t, l, firstMB)

	// The browser, remembering its own address to compare.
	var mu sync.Mutex
	var local []string
	tr := h.client.Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err == nil {
			mu.Lock()
			local = append(local, c.LocalAddr().String())
			mu.Unlock()
		}
		return c, err
	}
	browser := &http.Client{Transport: tr}
	t.Cleanup(browser.CloseIdleConnections)
	base := h.url + hublink.PathStation + st.id

	req, _ := http.NewRequest("GET", base+"/join/TOKEN123?lang=en", nil)
	req.Header.Set("X-Forwarded-For", "6.6.6.6") // a lie the hub must not pass on
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<h1>Join TOKEN123</h1>") {
		t.Fatalf("join page: %d %q", resp.StatusCode, body)
	}
	mu.Lock()
	me := local[len(local)-1]
	mu.Unlock()
	ip, _, _ := net.SplitHostPort(me)
	for _, want := range []string{"xff=" + ip + "\n", "remote=" + me + "\n", "prefix=/st/" + st.id + "\n", "query=lang=en\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the station saw %q, want it to contain %q", body, want)
		}
	}
	if strings.Contains(string(body), "6.6.6.6") {
		t.Error("the browser's own X-Forwarded-For reached the station")
	}

	// A form post: the body is forwarded.
	resp, err = browser.Post(base+"/join/TOKEN123", "application/x-www-form-urlencoded", strings.NewReader("code=123-456"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "got 12 bytes: code=123-456" {
		t.Fatalf("form post: %q", body)
	}
	// A body over the hub's bound is refused by the hub with a page.
	resp, err = browser.Post(base+"/join/TOKEN123", "application/octet-stream", bytes.NewReader(make([]byte, 1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("1 MB post: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	// The 10 MB download streams: the browser holds its first MB while the
	// station still holds back the other 9 (a hub that buffered the whole
	// answer would never deliver it and the test would time out).
	resp, err = browser.Get(base + "/download/app.exe")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != downloadSize {
		t.Fatalf("download: %d, length %d", resp.StatusCode, resp.ContentLength)
	}
	sum := sha256.New()
	if _, err := io.CopyN(sum, resp.Body, 1<<20); err != nil {
		t.Fatalf("first MB: %v", err)
	}
	close(firstMB)
	n, err := io.Copy(sum, resp.Body)
	if err != nil || n != downloadSize-1<<20 {
		t.Fatalf("rest of the download: %d bytes, %v", n, err)
	}
	if want := patternSum(); !bytes.Equal(sum.Sum(nil), want[:]) {
		t.Fatal("the download's bytes differ from what the station sent")
	}
}

func getPage(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 && !strings.HasPrefix(ct, "text/html") {
		t.Errorf("%s: %d answered as %q, want a page", url, resp.StatusCode, ct)
	}
	return resp.StatusCode, string(b)
}

// TestWebStationOffline: with the station's control connection down the
// hub itself answers a page saying so (503); an unknown station is 404;
// a station up but not serving web requests gives the "did not answer"
// page after the hub's wait.
func TestWebStationOffline(t *testing.T) {
	h := startHub(t)
	h.srv.AcceptTimeout = 300 * time.Millisecond
	st := h.enrol(t)
	join := h.url + hublink.PathStation + st.id + "/join/T"
	code, body := getPage(t, h.client, join)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "The technician&#39;s station is offline — ask your technician to open Ad Hoc Support Station, then reload this page") {
		t.Fatalf("offline: %d %q", code, body)
	}
	if code, body := getPage(t, h.client, h.url+hublink.PathStation+"nosuchstation/join/T"); code != http.StatusNotFound || !strings.Contains(body, "does not lead to a technician") {
		t.Fatalf("unknown station: %d %q", code, body)
	}
	// Up, but nobody serves l.HTTP(): the station does not take the request.
	l := h.link(t, st)
	if code, body := getPage(t, h.client, join); code != http.StatusGatewayTimeout || !strings.Contains(body, "did not answer in time") {
		t.Fatalf("station not serving web: %d %q", code, body)
	}
	stationWeb(t, l, make(chan struct{}))
	if code, body := getPage(t, h.client, join); code != 200 || !strings.Contains(body, "Join T") {
		t.Fatalf("station up: %d %q", code, body)
	}
	// Without the trailing slash the hub redirects to the station's root.
	resp, err := h.client.Get(h.url + hublink.PathStation + st.id)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Request.URL.Path; got != hublink.PathStation+st.id+"/" {
		t.Fatalf("bare station path ended at %q", got)
	}
	l.Close()
	for h.srv.Online(st.id) { // the hub notices the control connection's close
		time.Sleep(5 * time.Millisecond)
	}
	if code, body := getPage(t, h.client, join); code != http.StatusServiceUnavailable || !strings.Contains(body, "station is offline") {
		t.Fatalf("after the station stopped: %d %q", code, body)
	}
}

// TestWebLimits: browsers waiting on a station that does not open its
// streams are capped per station, with a page saying to wait.
func TestWebLimits(t *testing.T) {
	h := startHub(t)
	h.srv.SetLimits(1, 100)
	st := h.enrol(t)
	ws, _, err := websocket.Dial(context.Background(), "wss"+strings.TrimPrefix(h.url, "https")+hublink.PathControl,
		&websocket.DialOptions{HTTPClient: h.client, HTTPHeader: http.Header{"Authorization": {"Bearer " + st.cred}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	var m hublink.ControlMessage
	if err := wsjson.Read(context.Background(), ws, &m); err != nil || m.Type != "hello" {
		t.Fatalf("hello: %+v %v", m, err)
	}
	join := h.url + hublink.PathStation + st.id + "/join/T"
	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", join, nil)
		_, err := h.client.Do(req)
		waited <- err
	}()
	if err := wsjson.Read(context.Background(), ws, &m); err != nil || m.Type != "http" || m.RelayID == "" || !strings.HasPrefix(m.Client, "127.0.0.1:") {
		t.Fatalf("the hub's ask: %+v %v", m, err)
	}
	if code, body := getPage(t, h.client, join); code != http.StatusTooManyRequests || !strings.Contains(body, "Too many people are waiting") {
		t.Fatalf("second browser waiting on one station: %d %q", code, body)
	}
	cancel()
	<-waited
}
