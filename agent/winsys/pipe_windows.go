package winsys

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"time"
	"unsafe"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"

	"adhocstation/agent/pipe"
)

// ListenPipe creates the service's pipe. It fails if the pipe exists, so a
// squatter that created it first is noticed rather than trusted.
func ListenPipe() (net.Listener, error) {
	return winio.ListenPipe(PipeName, &winio.PipeConfig{SecurityDescriptor: pipeSDDL, InputBufferSize: 64 << 10,
		OutputBufferSize: 64 << 10})
}

// DialPipe connects to the service, waiting up to the context's deadline
// for it to start listening, and checks that the server is the service,
// dialling again past a squatter (dialService). A dial is not lost to
// timing on Windows: go-winio holds the pipe's first instance without read
// or write access, which Windows keeps disconnected, so a client that comes
// before the service's Accept (or between two Accepts) gets
// ERROR_PIPE_BUSY, and go-winio tries again every 10 ms; before the pipe
// exists (ERROR_FILE_NOT_FOUND) dialService tries every 500 ms, and the
// service starts the screen helper only once it listens. Under Wine an
// early dial can succeed and never be accepted (its tests dial again);
// WINDOWS-VERIFY.md checks that Windows does not do that.
func DialPipe(ctx context.Context) (net.Conn, error) { return dialService(ctx, realPipe{}) }

// realPipe is the service's pipe as dialService uses it.
type realPipe struct{}

// Dial asks for pipeUserAccess, not go-winio's default GENERIC_WRITE: that
// includes create-pipe-instance, which interactive users are not granted.
func (realPipe) Dial(ctx context.Context) (net.Conn, error) {
	return winio.DialPipeAccess(ctx, PipeName, pipeUserAccess)
}

func (realPipe) CheckServer(c net.Conn) error { return checkServer(c) }

func (realPipe) Pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
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
	if r, e, err := call(procGetNamedPipeClientProcessId, fd.Fd(), uintptr(unsafe.Pointer(&pid))); err != nil {
		return pipe.Caller{}, err
	} else if r == 0 {
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
		System: system, Console: console, Installed: runsInstalledProgram(p), Session: session}, nil
}

// AtConsole reports whether who's session is the active console session
// now (Hub.AtConsole: only its user reads the technician's chat).
func AtConsole(who pipe.Caller) bool {
	return who.Session == windows.WTSGetActiveConsoleSessionId()
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
	if r, e, err := call(procGetNamedPipeServerProcessId, fd.Fd(), uintptr(unsafe.Pointer(&pid))); err != nil {
		return err
	} else if r == 0 {
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
		return errSquatter
	}
	return nil
}
