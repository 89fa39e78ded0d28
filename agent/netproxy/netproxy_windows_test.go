//go:build windows

package netproxy

import (
	"net/url"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// underWine: the machine-wide proxy is only ever set by this test there,
// never on a real PC it might run on.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// TestWinHTTPCalls runs the real WinHTTP calls (under Wine in
// .ci/wine-screen.sh; docs/WINDOWS-VERIFY.md "Proxies" on a real PC): the
// structures' layout, the strings WinHTTP allocates, a failing PAC
// answered as an error; under Wine also a machine proxy set and read back.
func TestWinHTTPCalls(t *testing.T) {
	s := system()
	ie, err := s.UserIE()
	if err != nil {
		t.Fatalf("UserIE: %v", err)
	}
	t.Logf("user settings: %+v", ie)
	m, err := s.Machine()
	if err != nil {
		t.Fatalf("Machine: %v", err)
	}
	t.Logf("machine default: %+v", m)
	if _, err := s.AutoProxy("https://hub.example.org/relay/x", "http://127.0.0.1:1/proxy.pac", false); err == nil {
		t.Error("a PAC script nobody serves gave an answer")
	} else {
		t.Logf("unreachable PAC: %v", err)
	}
	if !underWine() {
		return
	}
	t.Log("under Wine: setting WinHTTP's machine default and reading it back")
	set := modWinHTTP.NewProc("WinHttpSetDefaultProxyConfiguration")
	put := func(pi proxyInfo) {
		if _, err := call(set, uintptr(unsafe.Pointer(&pi))); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := windows.UTF16PtrFromString("proxyvm.test:3128")
	b, _ := windows.UTF16PtrFromString("*.intranet.test;<local>")
	put(proxyInfo{accessType: AccessNamed, proxy: p, proxyBypass: b})
	t.Cleanup(func() { put(proxyInfo{accessType: AccessNoProxy}) })
	m, err = s.Machine()
	if err != nil || m.AccessType != AccessNamed || m.Proxy != "proxyvm.test:3128" || m.Bypass != "*.intranet.test;<local>" {
		t.Fatalf("machine default read back as %+v, %v", m, err)
	}
	u, _ := url.Parse("wss://hub.example.org/relay/x")
	d := Resolve(s, func(string) string { return "" }, u)
	if d.Proxy == nil || d.Proxy.String() != "http://proxyvm.test:3128" || d.Source != "machine" {
		t.Fatalf("decision %+v", d)
	}
	u, _ = url.Parse("wss://hub.intranet.test/relay/x")
	if d := Resolve(s, nil, u); d.Proxy != nil {
		t.Fatalf("an excepted host was proxied: %+v", d)
	}
	t.Logf("read back: %+v, decision for the hub: %v from %s", m, d.Proxy, d.Source)
}
