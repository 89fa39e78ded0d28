package winsys

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"adhocstation/core/wire"
)

var (
	wtsapi32                        = windows.NewLazySystemDLL("wtsapi32.dll")
	procWTSQuerySessionInformationW = wtsapi32.NewProc("WTSQuerySessionInformationW")
)

// Facts reads the PC's name, Windows edition and version, architecture,
// signed-in user and MachineGuid.
func (*System) Facts() (wire.Facts, error) {
	var f wire.Facts
	var err error
	if f.Hostname, err = os.Hostname(); err != nil {
		return f, err
	}
	f.OSName, f.OSVersion = osVersion()
	f.Arch = arch()
	f.WindowsUser = signedInUser()
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Cryptography`, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return f, fmt.Errorf("reading the machine ID: %w", err)
	}
	defer k.Close()
	if f.MachineID, _, err = k.GetStringValue("MachineGuid"); err != nil {
		return f, fmt.Errorf("reading the machine ID: %w", err)
	}
	return f, nil
}

// osVersion returns e.g. "Windows 11 Pro" and "10.0.22631.2861". The
// registry's ProductName still says "Windows 10" on Windows 11, so the
// build number (22000 and later) decides.
func osVersion() (string, string) {
	v := windows.RtlGetVersion()
	name := "Windows"
	var ubr uint64
	if k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Windows NT\CurrentVersion`,
		registry.QUERY_VALUE|registry.WOW64_64KEY); err == nil {
		if p, _, err := k.GetStringValue("ProductName"); err == nil && p != "" {
			// Older editions (and Wine) say "Microsoft Windows ..."; the
			// station expects the name to start with "Windows".
			name = strings.TrimPrefix(p, "Microsoft ")
		}
		ubr, _, _ = k.GetIntegerValue("UBR")
		k.Close()
	}
	if v.BuildNumber >= 22000 && strings.HasPrefix(name, "Windows 10") {
		name = "Windows 11" + strings.TrimPrefix(name, "Windows 10")
	}
	return name, fmt.Sprintf("%d.%d.%d.%d", v.MajorVersion, v.MinorVersion, v.BuildNumber, ubr)
}

// arch is the PC's own architecture, also when this amd64 program runs
// emulated on ARM64 (where the environment says AMD64): IsWow64Process2
// names the native machine.
func arch() string {
	var process, native uint16
	if err := windows.IsWow64Process2(windows.CurrentProcess(), &process, &native); err == nil {
		switch native {
		case 0xAA64: // IMAGE_FILE_MACHINE_ARM64
			return "arm64"
		case 0x8664: // IMAGE_FILE_MACHINE_AMD64
			return "amd64"
		case 0x014c: // IMAGE_FILE_MACHINE_I386
			return "386"
		}
	}
	return runtime.GOARCH
}

// signedInUser is the user of this process's Windows session (the person at
// the desk), not the administrator whose credentials elevated the app.
func signedInUser() string {
	var session uint32
	if err := windows.ProcessIdToSessionId(windows.GetCurrentProcessId(), &session); err != nil {
		return os.Getenv("USERNAME")
	}
	user, domain := wtsString(session, 5 /* WTSUserName */), wtsString(session, 7 /* WTSDomainName */)
	if user == "" {
		return os.Getenv("USERNAME")
	}
	// Local accounts carry the NetBIOS name (at most 15 characters), not
	// the longer DNS host name os.Hostname returns.
	if host, err := windows.ComputerName(); domain != "" && (err != nil || !strings.EqualFold(domain, host)) {
		return domain + `\` + user
	}
	return user
}

func wtsString(session uint32, class uintptr) string {
	var buf *uint16
	var n uint32
	r, _, err := call(procWTSQuerySessionInformationW, 0, uintptr(session), class,
		uintptr(unsafe.Pointer(&buf)), uintptr(unsafe.Pointer(&n)))
	if err != nil || r == 0 || buf == nil {
		return ""
	}
	defer windows.WTSFreeMemory(uintptr(unsafe.Pointer(buf)))
	return windows.UTF16PtrToString(buf)
}
