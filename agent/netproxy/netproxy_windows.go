//go:build windows

package netproxy

import (
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	modWinHTTP  = windows.NewLazySystemDLL("winhttp.dll")
	modKernel32 = windows.NewLazySystemDLL("kernel32.dll")
	modAdvapi32 = windows.NewLazySystemDLL("advapi32.dll")

	procGetIEProxyConfig    = modWinHTTP.NewProc("WinHttpGetIEProxyConfigForCurrentUser")
	procGetDefaultProxy     = modWinHTTP.NewProc("WinHttpGetDefaultProxyConfiguration")
	procOpen                = modWinHTTP.NewProc("WinHttpOpen")
	procGetProxyForURL      = modWinHTTP.NewProc("WinHttpGetProxyForUrl")
	procCloseHandle         = modWinHTTP.NewProc("WinHttpCloseHandle")
	procGlobalFree          = modKernel32.NewProc("GlobalFree")
	procImpersonateLoggedOn = modAdvapi32.NewProc("ImpersonateLoggedOnUser")
)

// call runs a WinHTTP-style function that returns FALSE/NULL on failure.
// Find first: a missing export is an error, never a panic.
func call(p *windows.LazyProc, args ...uintptr) (uintptr, error) {
	if err := p.Find(); err != nil {
		return 0, fmt.Errorf("%s is not available on this Windows: %w", p.Name, err)
	}
	r, _, e := p.Call(args...)
	if r == 0 {
		if e == nil || e == windows.ERROR_SUCCESS {
			e = fmt.Errorf("%s failed", p.Name)
		}
		if en, ok := e.(windows.Errno); ok && winhttpErrors[en] != "" {
			return 0, fmt.Errorf("%s: %s (%w)", p.Name, winhttpErrors[en], e)
		}
		return 0, fmt.Errorf("%s: %w", p.Name, e)
	}
	return r, nil
}

// winhttpErrors words the WinHTTP errors a proxy lookup meets: Windows'
// own message table does not hold them (they live in winhttp.dll).
var winhttpErrors = map[windows.Errno]string{
	12005: "the URL is not valid",                     // ERROR_WINHTTP_INVALID_URL
	12166: "the proxy script has an error",            // ERROR_WINHTTP_BAD_AUTO_PROXY_SCRIPT
	12167: "the proxy script could not be downloaded", // ERROR_WINHTTP_UNABLE_TO_DOWNLOAD_SCRIPT
	12178: "WinHTTP's proxy service failed",           // ERROR_WINHTTP_AUTO_PROXY_SERVICE_ERROR
	12180: "no proxy script was found on the network", // ERROR_WINHTTP_AUTODETECTION_FAILED
}

// takeString copies a string WinHTTP allocated and frees it (GlobalFree).
func takeString(p *uint16) string {
	if p == nil {
		return ""
	}
	s := windows.UTF16PtrToString(p)
	if procGlobalFree.Find() == nil {
		procGlobalFree.Call(uintptr(unsafe.Pointer(p)))
	}
	return s
}

// WINHTTP_CURRENT_USER_IE_PROXY_CONFIG
type ieProxyConfig struct {
	autoDetect    int32
	autoConfigURL *uint16
	proxy         *uint16
	proxyBypass   *uint16
}

// WINHTTP_PROXY_INFO
type proxyInfo struct {
	accessType  uint32
	proxy       *uint16
	proxyBypass *uint16
}

// WINHTTP_AUTOPROXY_OPTIONS
type autoProxyOptions struct {
	flags                 uint32
	autoDetectFlags       uint32
	autoConfigURL         *uint16
	reserved              uintptr
	reserved2             uint32
	autoLogonIfChallenged int32
}

const (
	autoProxyAutoDetect = 0x1 // WINHTTP_AUTOPROXY_AUTO_DETECT
	autoProxyConfigURL  = 0x2 // WINHTTP_AUTOPROXY_CONFIG_URL
	detectDHCP          = 0x1 // WINHTTP_AUTO_DETECT_TYPE_DHCP
	detectDNSA          = 0x2 // WINHTTP_AUTO_DETECT_TYPE_DNS_A
)

type winSettings struct{}

func system() Settings { return winSettings{} }

var envLookup = os.Getenv

// UserIE reads the Internet Options of the user signed in at the console.
// The app's service runs as SYSTEM, whose own settings are not the
// user's: it reads them as that user (WTSQueryUserToken, then
// ImpersonateLoggedOnUser on a locked thread). Not SYSTEM (the app run by
// hand, or no one signed in): its own settings.
func (winSettings) UserIE() (IEConfig, error) {
	var tok windows.Token
	if err := windows.WTSQueryUserToken(windows.WTSGetActiveConsoleSessionId(), &tok); err == nil {
		defer tok.Close()
		return asUser(tok)
	}
	return readIE()
}

// asUser reads the settings while impersonating tok, on a thread of its
// own: if reverting failed, that thread stays locked to its goroutine and
// Go ends it with the goroutine, so no other code ever runs as the user.
func asUser(tok windows.Token) (IEConfig, error) {
	type result struct {
		c   IEConfig
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if _, err := call(procImpersonateLoggedOn, uintptr(tok)); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("reading the signed-in user's proxy settings: %w", err)}
			return
		}
		c, err := readIE()
		if windows.RevertToSelf() == nil {
			runtime.UnlockOSThread()
		}
		done <- result{c, err}
	}()
	r := <-done
	return r.c, r.err
}

func readIE() (IEConfig, error) {
	var c ieProxyConfig
	if _, err := call(procGetIEProxyConfig, uintptr(unsafe.Pointer(&c))); err != nil {
		return IEConfig{}, err
	}
	return IEConfig{
		AutoDetect:    c.autoDetect != 0,
		AutoConfigURL: takeString(c.autoConfigURL),
		Proxy:         takeString(c.proxy),
		Bypass:        takeString(c.proxyBypass),
	}, nil
}

// Machine is `netsh winhttp show proxy`.
func (winSettings) Machine() (ProxyInfo, error) {
	var pi proxyInfo
	if _, err := call(procGetDefaultProxy, uintptr(unsafe.Pointer(&pi))); err != nil {
		return ProxyInfo{}, err
	}
	return ProxyInfo{AccessType: pi.accessType, Proxy: takeString(pi.proxy), Bypass: takeString(pi.proxyBypass)}, nil
}

// AutoProxy runs the PAC script (from pacURL, or found by WPAD over DHCP
// and DNS) for target.
func (winSettings) AutoProxy(target, pacURL string, autoDetect bool) (ProxyInfo, error) {
	agent, _ := windows.UTF16PtrFromString("AdHocSupport")
	h, err := call(procOpen, uintptr(unsafe.Pointer(agent)), uintptr(AccessNoProxy), 0, 0, 0)
	if err != nil {
		return ProxyInfo{}, err
	}
	defer call(procCloseHandle, h)
	opts := autoProxyOptions{autoLogonIfChallenged: 1}
	if autoDetect {
		opts.flags |= autoProxyAutoDetect
		opts.autoDetectFlags = detectDHCP | detectDNSA
	}
	if pacURL != "" {
		opts.flags |= autoProxyConfigURL
		if opts.autoConfigURL, err = windows.UTF16PtrFromString(pacURL); err != nil {
			return ProxyInfo{}, err
		}
	}
	t, err := windows.UTF16PtrFromString(target)
	if err != nil {
		return ProxyInfo{}, err
	}
	var pi proxyInfo
	if _, err := call(procGetProxyForURL, h, uintptr(unsafe.Pointer(t)), uintptr(unsafe.Pointer(&opts)), uintptr(unsafe.Pointer(&pi))); err != nil {
		return ProxyInfo{}, err
	}
	return ProxyInfo{AccessType: pi.accessType, Proxy: takeString(pi.proxy), Bypass: takeString(pi.proxyBypass)}, nil
}
