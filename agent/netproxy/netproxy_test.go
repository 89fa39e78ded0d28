package netproxy

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// recorded is a PC's WinHTTP answers, as the Windows calls give them.
type recorded struct {
	ie      IEConfig
	ieErr   error
	machine ProxyInfo
	pac     map[string]ProxyInfo // by PAC URL; "" is WPAD's script
	pacErr  map[string]error
	asked   []string // AutoProxy calls: "pac URL" or "wpad", with the target
}

func (r *recorded) UserIE() (IEConfig, error)   { return r.ie, r.ieErr }
func (r *recorded) Machine() (ProxyInfo, error) { return r.machine, nil }
func (r *recorded) AutoProxy(target, pacURL string, detect bool) (ProxyInfo, error) {
	key := pacURL
	if detect {
		key = ""
		r.asked = append(r.asked, "wpad "+target)
	} else {
		r.asked = append(r.asked, "pac "+pacURL+" "+target)
	}
	if err := r.pacErr[key]; err != nil {
		return ProxyInfo{}, err
	}
	pi, ok := r.pac[key]
	if !ok {
		return ProxyInfo{}, errors.New("ERROR_WINHTTP_AUTODETECTION_FAILED")
	}
	return pi, nil
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestResolve(t *testing.T) {
	hub := "wss://hub.example.org/relay/TOKEN"
	cases := []struct {
		name   string
		s      *recorded
		env    map[string]string
		target string
		proxy  string // "" direct
		source string
	}{
		{"nothing set", &recorded{}, nil, hub, "", "none"},
		{"user manual proxy", &recorded{ie: IEConfig{Proxy: "proxy.corp:8080"}}, nil, hub, "http://proxy.corp:8080", "user"},
		{"user per-scheme list takes https=", &recorded{ie: IEConfig{Proxy: "http=web.corp:80;https=secure.corp:8443;socks=s.corp:1080"}}, nil, hub, "http://secure.corp:8443", "user"},
		{"user list with only http= has none for wss", &recorded{ie: IEConfig{Proxy: "http=web.corp:80"}, machine: ProxyInfo{AccessType: AccessNamed, Proxy: "m.corp:3128"}}, nil, hub, "http://m.corp:3128", "machine"},
		{"port defaults to 80", &recorded{ie: IEConfig{Proxy: "proxy.corp"}}, nil, hub, "http://proxy.corp:80", "user"},
		{"user bypass by wildcard", &recorded{ie: IEConfig{Proxy: "proxy.corp:8080", Bypass: "*.example.org;10.*"}}, nil, hub, "", "user"},
		{"user bypass <local> for a dotless name", &recorded{ie: IEConfig{Proxy: "proxy.corp:8080", Bypass: "<local>"}}, nil, "wss://hub/relay/T", "", "user"},
		{"<local> does not bypass a dotted name", &recorded{ie: IEConfig{Proxy: "proxy.corp:8080", Bypass: "<local>"}}, nil, hub, "http://proxy.corp:8080", "user"},
		{"bypass entry with another port does not match", &recorded{ie: IEConfig{Proxy: "p.corp:8080", Bypass: "hub.example.org:8443"}}, nil, hub, "http://p.corp:8080", "user"},
		{"bypass entry with the https port matches", &recorded{ie: IEConfig{Proxy: "p.corp:8080", Bypass: "https://hub.example.org:443"}}, nil, hub, "", "user"},
		{"PAC script names a proxy", &recorded{ie: IEConfig{AutoConfigURL: "http://wpad.corp/proxy.pac", Proxy: "manual.corp:1"},
			pac: map[string]ProxyInfo{"http://wpad.corp/proxy.pac": {AccessType: AccessNamed, Proxy: "pac1.corp:3128; pac2.corp:3128"}}}, nil, hub, "http://pac1.corp:3128", "pac"},
		{"PAC script says DIRECT", &recorded{ie: IEConfig{AutoConfigURL: "http://wpad.corp/proxy.pac", Proxy: "manual.corp:1"},
			pac: map[string]ProxyInfo{"http://wpad.corp/proxy.pac": {AccessType: AccessNoProxy}}}, nil, hub, "", "pac"},
		{"PAC fails, WPAD answers", &recorded{ie: IEConfig{AutoConfigURL: "http://gone.corp/x.pac", AutoDetect: true},
			pac: map[string]ProxyInfo{"": {AccessType: AccessNamed, Proxy: "wpad-proxy.corp:8080"}}}, nil, hub, "http://wpad-proxy.corp:8080", "wpad"},
		{"WPAD finds nothing, the manual proxy holds", &recorded{ie: IEConfig{AutoDetect: true, Proxy: "manual.corp:8080"}}, nil, hub, "http://manual.corp:8080", "user"},
		{"service as SYSTEM: machine default", &recorded{machine: ProxyInfo{AccessType: AccessNamed, Proxy: "m.corp:3128", Bypass: "*.local"}}, nil, hub, "http://m.corp:3128", "machine"},
		{"machine bypass", &recorded{machine: ProxyInfo{AccessType: AccessNamed, Proxy: "m.corp:3128", Bypass: "hub.example.org"}}, nil, hub, "", "machine"},
		{"machine direct (the default): environment", &recorded{machine: ProxyInfo{AccessType: AccessNoProxy}}, map[string]string{"HTTPS_PROXY": "http://env.corp:1"}, hub, "http://env.corp:1", "environment"},
		{"user settings unreadable: machine", &recorded{ieErr: errors.New("access denied"), machine: ProxyInfo{AccessType: AccessNamed, Proxy: "m.corp:3128"}}, nil, hub, "http://m.corp:3128", "machine"},
		{"environment last", &recorded{}, map[string]string{"HTTPS_PROXY": "http://env.corp:3128"}, hub, "http://env.corp:3128", "environment"},
		{"environment NO_PROXY", &recorded{}, map[string]string{"HTTPS_PROXY": "http://env.corp:3128", "NO_PROXY": ".example.org"}, hub, "", "none"},
		{"loopback never proxied", &recorded{ie: IEConfig{Proxy: "proxy.corp:8080"}}, nil, "wss://127.0.0.1:8443/relay/T", "", "none"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Resolve(c.s, env(c.env), mustURL(t, c.target))
			got := ""
			if d.Proxy != nil {
				got = d.Proxy.String()
			}
			if got != c.proxy || d.Source != c.source {
				t.Fatalf("proxy %q from %q (notes %v), want %q from %q", got, d.Source, d.Notes, c.proxy, c.source)
			}
		})
	}
}

// TestResolveAsksPACWithHTTPS: WinHTTP's PAC runner takes http(s) URLs,
// and a failed try is noted for the app's log.
func TestResolveAsksPACWithHTTPS(t *testing.T) {
	s := &recorded{ie: IEConfig{AutoConfigURL: "http://gone.corp/x.pac", AutoDetect: true}}
	d := Resolve(s, nil, mustURL(t, "wss://hub.example.org/relay/T"))
	if len(s.asked) != 2 || s.asked[0] != "pac http://gone.corp/x.pac https://hub.example.org/relay/T" || s.asked[1] != "wpad https://hub.example.org/relay/T" {
		t.Fatalf("asked %q", s.asked)
	}
	if d.Proxy != nil || len(d.Notes) != 2 || !strings.HasPrefix(d.Notes[0], "pac: ") || !strings.HasPrefix(d.Notes[1], "wpad: ") {
		t.Fatalf("decision %+v", d)
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{{"*.corp", "a.b.corp", true}, {"*.corp", "corp", false}, {"10.*", "10.1.2.3", true}, {"a*b*c", "aXXbYYc", true}, {"a*b*c", "aXXbYY", false}, {"*", "x", true}, {"x", "x", true}} {
		if got := glob(c.p, c.s); got != c.want {
			t.Errorf("glob(%q, %q) = %v", c.p, c.s, got)
		}
	}
}
