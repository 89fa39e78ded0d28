package hubtest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
)

// Proxy is an HTTP CONNECT proxy on 127.0.0.1, as in an office: it only
// opens tunnels and counts them.
type Proxy struct {
	URL     *url.URL
	stopped chan struct{}
	mu      sync.Mutex
	tunnels int
}

// StartProxy runs a CONNECT proxy until the test ends; its tunnels are
// cut then.
func StartProxy(t testing.TB) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{URL: &url.URL{Scheme: "http", Host: ln.Addr().String()}, stopped: make(chan struct{})}
	var wg sync.WaitGroup
	t.Cleanup(func() { close(p.stopped); ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); p.tunnel(c) }()
		}
	}()
	return p
}

// tunnel answers one CONNECT and copies both ways until either side
// closes or the proxy stops.
func (p *Proxy) tunnel(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	up, err := net.Dial("tcp", req.Host)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	defer up.Close()
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	p.mu.Lock()
	p.tunnels++
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, br); done <- struct{}{} }() // br holds what came right after the CONNECT
	go func() { io.Copy(c, up); done <- struct{}{} }()
	select {
	case <-done:
	case <-p.stopped:
	}
	// Closing both ends (deferred) ends the other copy too.
}

// Tunnels is how many CONNECT tunnels the proxy opened.
func (p *Proxy) Tunnels() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tunnels
}

// Client is h.Client going through the proxy.
func (p *Proxy) Client(h *Hub) *http.Client {
	tr := h.Client.Transport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyURL(p.URL)
	return &http.Client{Transport: tr}
}
