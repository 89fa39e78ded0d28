// Package netproxy finds the proxy the PC's own settings name for a URL,
// so the app reaches the hub (wss://HUB/relay/…) from an office that lets
// only its proxy out. On Windows the answer comes from WinHTTP: the
// signed-in user's Internet Options (a PAC script, WPAD auto-detection, or
// a manual proxy), then the machine's WinHTTP default (`netsh winhttp set
// proxy`, what a service running as SYSTEM is given), then HTTPS_PROXY; on
// other systems from HTTPS_PROXY/NO_PROXY alone. The decision is Resolve,
// driven on Linux by recorded answers (Settings); only the calls into
// WinHTTP are Windows code.
package netproxy

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// WinHTTP's access types (WINHTTP_ACCESS_TYPE_*).
const (
	AccessDefault   uint32 = 0 // no setting: look further
	AccessNoProxy   uint32 = 1 // direct
	AccessNamed     uint32 = 3 // Proxy (and Bypass) apply
	AccessAutomatic uint32 = 4
)

// IEConfig is a user's Internet Options proxy settings
// (WINHTTP_CURRENT_USER_IE_PROXY_CONFIG).
type IEConfig struct {
	AutoDetect    bool   // "Automatically detect settings" (WPAD)
	AutoConfigURL string // "Use automatic configuration script" (PAC)
	Proxy         string // manual: "host:port" or "http=h:p;https=h:p;…"
	Bypass        string // manual exceptions: "*.corp;10.*;<local>"
}

// ProxyInfo is what WinHTTP answers for the machine's default or for one
// URL through a PAC script (WINHTTP_PROXY_INFO).
type ProxyInfo struct {
	AccessType uint32
	Proxy      string
	Bypass     string
}

// Settings asks the PC. The Windows one calls WinHTTP; tests give
// recorded answers.
type Settings interface {
	// UserIE is the signed-in user's Internet Options
	// (WinHttpGetIEProxyConfigForCurrentUser, as that user).
	UserIE() (IEConfig, error)
	// Machine is WinHTTP's own default (WinHttpGetDefaultProxyConfiguration).
	Machine() (ProxyInfo, error)
	// AutoProxy runs the PAC script for target, from pacURL or, with
	// autoDetect, found by WPAD (WinHttpGetProxyForUrl).
	AutoProxy(target, pacURL string, autoDetect bool) (ProxyInfo, error)
}

// Decision is Resolve's answer with where it came from, for the app's log.
type Decision struct {
	Proxy  *url.URL // nil: dial directly
	Source string   // "pac", "wpad", "user", "machine", "environment", "none"
	Notes  []string // settings that were tried and failed, in order
}

// Resolve decides how to reach u, in the order a browser on the PC does:
// the user's automatic configuration (PAC URL, then WPAD), the user's
// manual proxy with its exceptions, WinHTTP's machine default, then the
// environment (HTTPS_PROXY, NO_PROXY). s may be nil (no WinHTTP). A
// setting that cannot be read or run is noted and the next one is tried:
// an office with a broken WPAD still gets its manual proxy.
func Resolve(s Settings, env func(string) string, u *url.URL) Decision {
	var d Decision
	if isLoopback(u.Hostname()) {
		d.Source = "none" // a proxy cannot reach this PC's own loopback
		return d
	}
	if s != nil {
		ie, err := s.UserIE()
		if err != nil {
			d.Notes = append(d.Notes, "user settings: "+err.Error())
		}
		if err == nil && (ie.AutoConfigURL != "" || ie.AutoDetect) {
			tries := []struct {
				src, pac string
				detect   bool
			}{{"pac", ie.AutoConfigURL, false}, {"wpad", "", true}}
			for _, tr := range tries {
				if (tr.src == "pac" && tr.pac == "") || (tr.src == "wpad" && !ie.AutoDetect) {
					continue
				}
				pi, err := s.AutoProxy(httpURL(u).String(), tr.pac, tr.detect)
				if err != nil {
					d.Notes = append(d.Notes, tr.src+": "+err.Error())
					continue
				}
				if p, ok, err := fromInfo(pi, u, false); ok {
					d.Proxy, d.Source = p, tr.src
					if err != nil {
						d.Notes = append(d.Notes, tr.src+": "+err.Error())
					}
					return d
				}
			}
		}
		if err == nil && ie.Proxy != "" {
			p, err := pick(ie.Proxy, ie.Bypass, u)
			if err != nil {
				d.Notes = append(d.Notes, "user proxy: "+err.Error())
			} else {
				d.Proxy, d.Source = p, "user"
				return d
			}
		}
		// Direct access is WinHTTP's default out of the box, so only a
		// named proxy there decides; otherwise the environment may.
		mi, err := s.Machine()
		if err != nil {
			d.Notes = append(d.Notes, "machine settings: "+err.Error())
		} else if p, ok, err := fromInfo(mi, u, true); ok && mi.AccessType == AccessNamed {
			if err != nil {
				d.Notes = append(d.Notes, "machine proxy: "+err.Error())
			} else {
				d.Proxy, d.Source = p, "machine"
				return d
			}
		}
	}
	if env == nil {
		env = func(string) string { return "" }
	}
	cfg := httpproxy.Config{
		HTTPProxy:  firstEnv(env, "HTTP_PROXY", "http_proxy"),
		HTTPSProxy: firstEnv(env, "HTTPS_PROXY", "https_proxy"),
		NoProxy:    firstEnv(env, "NO_PROXY", "no_proxy"),
	}
	p, err := cfg.ProxyFunc()(httpURL(u))
	if err != nil {
		d.Notes = append(d.Notes, "environment: "+err.Error())
	}
	if p != nil {
		d.Proxy, d.Source = p, "environment"
		return d
	}
	d.Source = "none"
	return d
}

func firstEnv(env func(string) string, names ...string) string {
	for _, n := range names {
		if v := env(n); v != "" {
			return v
		}
	}
	return ""
}

// httpURL is u with ws/wss read as http/https, the schemes proxy settings
// speak of.
func httpURL(u *url.URL) *url.URL {
	c := *u
	switch c.Scheme {
	case "wss":
		c.Scheme = "https"
	case "ws":
		c.Scheme = "http"
	}
	return &c
}

// fromInfo reads a WinHTTP answer. ok: it decided (direct or a proxy);
// with named set it applies the answer's bypass list (the machine default
// has one; a PAC answer has already decided).
func fromInfo(pi ProxyInfo, u *url.URL, named bool) (*url.URL, bool, error) {
	switch pi.AccessType {
	case AccessNoProxy:
		return nil, true, nil
	case AccessNamed:
		if pi.Proxy == "" {
			return nil, true, nil
		}
		bypass := ""
		if named {
			bypass = pi.Bypass
		}
		p, err := pick(pi.Proxy, bypass, u)
		return p, err == nil, err
	}
	return nil, false, nil
}

// pick chooses from a WinHTTP proxy list the proxy for u, or nil when u's
// host is in bypass. The list is "host:port", or per scheme
// "http=h:p;https=h:p" (an https URL takes the https= entry, else a plain
// one); several entries separated by ';' or spaces are tried in order and
// the first that fits is used. socks= entries are skipped: the app speaks
// CONNECT only.
func pick(list, bypass string, u *url.URL) (*url.URL, error) {
	hu := httpURL(u)
	if bypassed(bypass, hu) {
		return nil, nil
	}
	var plain, scheme string
	for _, e := range splitList(list) {
		k, v, ok := strings.Cut(e, "=")
		switch {
		case !ok && plain == "":
			plain = e
		case ok && strings.EqualFold(k, hu.Scheme) && scheme == "":
			scheme = v
		}
	}
	chosen := scheme
	if chosen == "" {
		chosen = plain
	}
	if chosen == "" {
		return nil, fmt.Errorf("the proxy list %q names no proxy for %s", list, hu.Scheme)
	}
	return proxyURL(chosen)
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' || r == ',' })
}

// proxyURL reads "host:port" or "http://host:port" (port 80 if none, as
// WinHTTP takes it).
func proxyURL(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	p, err := url.Parse(s)
	if err != nil || p.Host == "" {
		return nil, fmt.Errorf("the proxy %q cannot be read", s)
	}
	if p.Scheme != "http" && p.Scheme != "https" {
		return nil, fmt.Errorf("the proxy %q is not an HTTP proxy", s)
	}
	if p.Port() == "" {
		p.Host = net.JoinHostPort(p.Hostname(), "80")
	}
	return p, nil
}

// bypassed reports whether u's host matches the exceptions list as
// Internet Options reads it: "<local>" is any name without a dot;
// entries may carry a scheme ("https://x") or a port ("x:8443"), and '*'
// matches any run of characters ("*.corp", "10.*").
func bypassed(list string, u *url.URL) bool {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	for _, e := range splitList(strings.ToLower(list)) {
		if e == "<local>" {
			if !strings.Contains(host, ".") && net.ParseIP(host) == nil {
				return true
			}
			continue
		}
		if sch, rest, ok := strings.Cut(e, "://"); ok {
			if sch != u.Scheme {
				continue
			}
			e = rest
		}
		eh, ep := e, ""
		if h, p, err := net.SplitHostPort(e); err == nil {
			eh, ep = h, p
		}
		if ep != "" && ep != port {
			continue
		}
		if glob(eh, host) {
			return true
		}
	}
	return false
}

// glob matches s against a pattern whose only wildcard is '*'.
func glob(pattern, s string) bool {
	i := strings.IndexByte(pattern, '*')
	if i < 0 {
		return pattern == s
	}
	if !strings.HasPrefix(s, pattern[:i]) {
		return false
	}
	rest := pattern[i+1:]
	for j := i; j <= len(s); j++ {
		if glob(rest, s[j:]) {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// cacheTTL: For asks WinHTTP again after this; a WPAD search can take
// seconds, and the app redials the hub often while it is away.
const cacheTTL = 5 * time.Minute

type cached struct {
	d    Decision
	when time.Time
}

var (
	cacheMu sync.Mutex
	cache   = map[string]cached{}
)

// For is the proxy the PC's settings name for u (nil: dial directly).
func For(u *url.URL) (*url.URL, error) {
	d, err := Decide(u)
	return d.Proxy, err
}

// Decide is For with where the answer came from, cached per scheme and
// host for five minutes.
func Decide(u *url.URL) (Decision, error) {
	if u == nil || u.Host == "" {
		return Decision{}, errors.New("netproxy: no host to find a proxy for")
	}
	key := u.Scheme + "://" + u.Host
	cacheMu.Lock()
	c, ok := cache[key]
	cacheMu.Unlock()
	if ok && time.Since(c.when) < cacheTTL {
		return c.d, nil
	}
	d := Resolve(system(), envLookup, u)
	cacheMu.Lock()
	cache[key] = cached{d, time.Now()}
	cacheMu.Unlock()
	return d, nil
}

// Func is For in the shape http.Transport.Proxy takes.
func Func(r *http.Request) (*url.URL, error) { return For(r.URL) }
