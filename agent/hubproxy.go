package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"adhocstation/agent/netproxy"
)

// hubProxy is the proxy the PC's settings name for the relay hub
// (agent/netproxy: PAC, WPAD, the user's and the machine's settings, then
// HTTPS_PROXY), for support.App.HubProxy. Each new answer for a host goes
// to the log once, with where it came from and what failed before it,
// credentials in a proxy URL masked.
func hubProxy(logf func(string, ...any)) func(*http.Request) (*url.URL, error) {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(r *http.Request) (*url.URL, error) {
		d, err := netproxy.Decide(r.URL)
		if err != nil {
			return nil, err
		}
		via := "no proxy"
		if d.Proxy != nil {
			via = "proxy " + d.Proxy.Redacted()
		}
		line := fmt.Sprintf("to reach the hub %s: %s (from %s)", r.URL.Host, via, d.Source)
		if len(d.Notes) > 0 {
			line += "; " + strings.Join(d.Notes, "; ")
		}
		mu.Lock()
		first := !seen[line]
		seen[line] = true
		mu.Unlock()
		if first {
			logf("%s", line)
		}
		return d.Proxy, nil
	}
}
