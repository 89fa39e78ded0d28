package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestHubProxyFromEnvironment: off Windows netproxy has only the
// environment; the hub's proxy comes from HTTPS_PROXY, its password masked
// in the log line, which is written once however often it is asked.
func TestHubProxyFromEnvironment(t *testing.T) {
	t.Setenv("HTTPS_PROXY", "http://anna:secret@proxy.example:3128")
	t.Setenv("NO_PROXY", "")
	var lines []string
	proxy := hubProxy(func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) })
	for range 3 {
		r, _ := http.NewRequest(http.MethodGet, "https://hub-proxy-test.example/relay/x", nil)
		u, err := proxy(r)
		if err != nil || u == nil || u.Host != "proxy.example:3128" {
			t.Fatalf("proxy %v, %v; want proxy.example:3128", u, err)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "hub-proxy-test.example") || !strings.Contains(lines[0], "environment") ||
		strings.Contains(lines[0], "secret") {
		t.Fatalf("log lines %q: want one naming the hub and the environment, without the password", lines)
	}
}
