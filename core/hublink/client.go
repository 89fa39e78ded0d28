package hublink

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// ProxyFromEnvironment is the proxy HTTPS_PROXY (or HTTP_PROXY for http
// URLs) names for r, unless NO_PROXY lists its host; nil: direct. Unlike
// http.ProxyFromEnvironment it reads the environment at each call, so a
// station started before the admin set the proxy, or a test, sees the
// change. Like it, it never proxies localhost or loopback addresses.
func ProxyFromEnvironment(r *http.Request) (*url.URL, error) {
	return httpproxy.FromEnvironment().ProxyFunc()(r.URL)
}

// NewClient is the HTTP client for talking to the hub: through the
// proxy the environment names (CONNECT, so the hub's TLS runs end to end
// through it), with tlsConfig (nil: the system's roots, as for a hub with
// a public certificate). Join, Link and DialRelay use one like it when
// given none.
func NewClient(tlsConfig *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
	}}
}

// defaultClient serves callers that pass no client.
var defaultClient = NewClient(nil)

func clientOr(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return defaultClient
}
