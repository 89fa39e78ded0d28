package winsys

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"
	"unsafe"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"

	"adhocstation/agent/pipe"
)

// PipeName is the service's named pipe.
const PipeName = `\\.\pipe\AdHocSupportSession`

// pipeSDDL admits SYSTEM, Administrators and interactive users (IU: people
// signed in at the PC or over Remote Desktop, never network logons or
// services); the service still checks each caller's token (PipeCaller).
const pipeSDDL = "O:SYD:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GRGW;;;IU)"

// ListenPipe creates the service's pipe. It fails if the pipe exists, so a
// squatter that created it first is noticed rather than trusted.
func ListenPipe() (net.Listener, error) {
	return winio.ListenPipe(PipeName, &winio.PipeConfig{SecurityDescriptor: pipeSDDL, InputBufferSize: 64 << 10,
		OutputBufferSize: 64 << 10})
}

// DialPipe connects to the service, waiting up to the context's deadline
// for it to start listening, and checks that the server is the service.
// A dial is not lost to timing on Windows: go-winio holds the pipe's first
// instance without read or write access, which Windows keeps disconnected,
// so a client that comes before the service's Accept (or between two
// Accepts) gets ERROR_PIPE_BUSY, and go-winio tries again every 10 ms;
// before the pipe exists (ERROR_FILE_NOT_FOUND) this loop tries every
// 500 ms, and the service starts the screen helper only once it listens.
// Under Wine an early dial can succeed and never be accepted (its tests
// dial again); WINDOWS-VERIFY.md checks that Windows does not do that.
func DialPipe(ctx context.Context) (net.Conn, error) {
	for {
		c, err := winio.DialPipeContext(ctx, PipeName)
		if err == nil {
			if err := checkServer(c); err != nil {
				c.Close()
				return nil, err
			}
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the Support Session service is not answering: %w", err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

var procGetNamedPipeClientProcessId = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetNamedPipeClientProcessId")

// PipeCaller names the client of a pipe connection by its process's token:
// who it runs as and whether it is elevated (or SYSTEM).
func PipeCaller(c net.Conn) (pipe.Caller, error) {
	fd, ok := c.(interface{ Fd() uintptr })
	if !ok {
		return pipe.Caller{}, errors.New("not a named pipe")
	}
	var pid uint32
	if r, _, e := procGetNamedPipeClientProcessId.Call(fd.Fd(), uintptr(unsafe.Pointer(&pid))); r == 0 {
		return pipe.Caller{}, e
	}
	p, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return pipe.Caller{}, err
	}
	defer windows.CloseHandle(p)
	var tok windows.Token
	if err := windows.OpenProcessToken(p, windows.TOKEN_QUERY, &tok); err != nil {
		return pipe.Caller{}, err
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return pipe.Caller{}, err
	}
	name, domain, _, _ := u.User.Sid.LookupAccount("")
	system := u.User.Sid.IsWellKnown(windows.WinLocalSystemSid)
	var session uint32
	console := windows.ProcessIdToSessionId(pid, &session) == nil && session == windows.WTSGetActiveConsoleSessionId()
	return pipe.Caller{User: domain + `\` + name, Admin: tok.IsElevated() || system,
		System: system, Console: console, Installed: runsInstalledProgram(p)}, nil
}

// runsInstalledProgram reports whether process p runs the installed
// AdHocSupport.exe (admin-only folder), the only program the service
// starts as its screen helper.
func runsInstalledProgram(p windows.Handle) bool {
	dir, err := installDir()
	if err != nil {
		return false
	}
	var buf [windows.MAX_LONG_PATH]uint16
	n := uint32(len(buf))
	if windows.QueryFullProcessImageName(p, 0, &buf[0], &n) != nil {
		return false
	}
	return strings.EqualFold(windows.UTF16ToString(buf[:n]), filepath.Join(dir, exeName))
}

var procGetNamedPipeServerProcessId = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetNamedPipeServerProcessId")

// checkServer makes sure the pipe's server runs as SYSTEM: a program of the
// user that created a pipe of this name before the service did (a squatter)
// must never receive the security code or show a false tray.
func checkServer(c net.Conn) error {
	fd, ok := c.(interface{ Fd() uintptr })
	if !ok {
		return errors.New("not a named pipe")
	}
	var pid uint32
	if r, _, e := procGetNamedPipeServerProcessId.Call(fd.Fd(), uintptr(unsafe.Pointer(&pid))); r == 0 {
		return e
	}
	p, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(p)
	var tok windows.Token
	if err := windows.OpenProcessToken(p, windows.TOKEN_QUERY, &tok); err != nil {
		return err
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return err
	}
	if !u.User.Sid.IsWellKnown(windows.WinLocalSystemSid) {
		return fmt.Errorf("the pipe %s is not the Support Session service's (its server does not run as SYSTEM)", PipeName)
	}
	return nil
}
