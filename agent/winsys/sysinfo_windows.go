package winsys

import (
	"runtime"
	"slices"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"adhocstation/agent/support"
	"adhocstation/core/wire"
)

var (
	procGetTickCount64       = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetTickCount64")
	procGlobalMemoryStatusEx = windows.NewLazySystemDLL("kernel32.dll").NewProc("GlobalMemoryStatusEx")
)

// memoryStatusEx is MEMORYSTATUSEX.
type memoryStatusEx struct {
	length, memoryLoad                         uint32
	totalPhys, availPhys                       uint64
	totalPageFile, availPageFile               uint64
	totalVirtual, availVirtual, availExtVirtul uint64
}

// SystemInfo reads what the System tab shows. A part that cannot be read
// stays empty rather than failing the whole.
func (s *System) SystemInfo() (wire.SystemInfo, error) {
	f, _ := s.Facts()
	info := wire.SystemInfo{ComputerName: f.Hostname, Edition: f.OSName, Build: f.OSVersion, CPUs: runtime.NumCPU(),
		Addresses: support.Addresses()}
	if ms, _, err := call(procGetTickCount64); err == nil && ms != 0 {
		info.UptimeSec = int64(ms / 1000)
	}
	if k, err := registry.OpenKey(registry.LOCAL_MACHINE, `HARDWARE\DESCRIPTION\System\CentralProcessor\0`, registry.QUERY_VALUE); err == nil {
		info.CPU, _, _ = k.GetStringValue("ProcessorNameString")
		info.CPU = strings.TrimSpace(info.CPU)
		k.Close()
	}
	m := memoryStatusEx{length: uint32(unsafe.Sizeof(memoryStatusEx{}))}
	if r, _, err := call(procGlobalMemoryStatusEx, uintptr(unsafe.Pointer(&m))); err == nil && r != 0 {
		info.MemoryTotal, info.MemoryFree = m.totalPhys, m.availPhys
	}
	info.Disks = disks()
	info.Users = signedInUsers()
	return info, nil
}

// disks lists the fixed drives with their space.
func disks() []wire.Disk {
	buf := make([]uint16, 256)
	n, err := windows.GetLogicalDriveStrings(uint32(len(buf)), &buf[0])
	if err != nil || int(n) > len(buf) {
		return nil
	}
	var out []wire.Disk
	for _, root := range strings.Split(windows.UTF16ToString(buf[:n]), "\x00") {
		if root == "" {
			continue
		}
		p, err := windows.UTF16PtrFromString(root)
		if err != nil || windows.GetDriveType(p) != windows.DRIVE_FIXED {
			continue
		}
		var free, total, totalFree uint64
		if windows.GetDiskFreeSpaceEx(p, &free, &total, &totalFree) == nil {
			out = append(out, wire.Disk{Name: root, Total: total, Free: totalFree})
		}
	}
	return out
}

// signedInUsers names the users of the PC's Windows sessions.
func signedInUsers() []string {
	var sessions *windows.WTS_SESSION_INFO
	var count uint32
	if windows.WTSEnumerateSessions(0, 0, 1, &sessions, &count) != nil {
		return nil
	}
	defer windows.WTSFreeMemory(uintptr(unsafe.Pointer(sessions)))
	var out []string
	for _, s := range unsafe.Slice(sessions, count) {
		user, domain := wtsString(s.SessionID, 5 /* WTSUserName */), wtsString(s.SessionID, 7 /* WTSDomainName */)
		if user == "" {
			continue
		}
		if domain != "" {
			user = domain + `\` + user
		}
		if !slices.Contains(out, user) {
			out = append(out, user)
		}
	}
	return out
}
