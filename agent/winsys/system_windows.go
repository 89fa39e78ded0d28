package winsys

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// System implements support.System on Windows.
type System struct{}

// New returns the Windows system.
func New() *System { return &System{} }

// Executable returns the running program's path.
func (*System) Executable() (string, error) { return os.Executable() }

// ReadTail returns the last n bytes of path.
func (*System) ReadTail(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(fi.Size()-int64(n), 0)
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(f, int64(n)))
}

// stateSDDL: owner Administrators; only SYSTEM and Administrators, nothing
// inherited from ProgramData (where ordinary users may read), because the
// state file holds the agent key.
const stateSDDL = "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"

// StateDir returns %ProgramData%\AdHocSupport, readable by administrators only.
func (*System) StateDir() (string, error) {
	base, err := windows.KnownFolderPath(windows.FOLDERID_ProgramData, 0)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(base, "AdHocSupport")
	sd, err := windows.SecurityDescriptorFromString(stateSDDL)
	if err != nil {
		return "", err
	}
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return "", err
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	if err := windows.CreateDirectory(p, sa); err != nil && !errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
		return "", err
	}
	// A folder that already existed (perhaps made by someone else) gets the
	// same owner and permissions before anything is written into it.
	owner, _, err := sd.Owner()
	if err != nil {
		return "", err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return "", err
	}
	err = windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION,
		owner, nil, dacl, nil)
	if err != nil {
		return "", fmt.Errorf("securing %s: %w", dir, err)
	}
	return dir, nil
}

const taskName = "Ad Hoc Support Session"

// Autostart registers a logon task that starts the app with --resume at the
// highest privileges, so a restart during the session still ends in cleanup
// (a Run key cannot start a program that needs administrator rights).
func (*System) Autostart(exe string) error {
	return system32("schtasks.exe", `/Create /F /TN "`+taskName+`" /SC ONLOGON /RL HIGHEST /TR "\"`+exe+`\" --resume"`)
}

// RemoveAutostart deletes the logon task.
func (*System) RemoveAutostart() error {
	return system32("schtasks.exe", `/Delete /F /TN "`+taskName+`"`)
}

// SelfRemove deletes the program file once this process has exited: a
// hidden cmd.exe waits a few seconds, then deletes it. Only if that cannot
// start is Windows asked to delete it at the next restart (not always: a
// pending delete would also hit a newer download saved under the same name).
func (*System) SelfRemove(exe string) error {
	if dir, err := (&System{}).StateDir(); err == nil {
		_ = os.Remove(dir) // empty by now
	}
	sys, err := windows.GetSystemDirectory()
	if err != nil {
		return err
	}
	cmd := command(sys, "cmd.exe", `/d /c ping -n 4 127.0.0.1 >nul & del /f /q "`+exe+`"`)
	if err := cmd.Start(); err != nil {
		p, perr := windows.UTF16PtrFromString(exe)
		if perr == nil {
			perr = windows.MoveFileEx(p, nil, windows.MOVEFILE_DELAY_UNTIL_REBOOT)
		}
		return errors.Join(err, perr)
	}
	return cmd.Process.Release()
}

// system32 runs a program from System32 (never from the search path) with
// a raw command line and no window, and waits for it.
func system32(name, args string) error {
	sys, err := windows.GetSystemDirectory()
	if err != nil {
		return err
	}
	out, err := command(sys, name, args).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, out)
	}
	return nil
}

// command prepares System32's name with args as its raw command line (which
// must repeat the program, as argv[0]). It runs in System32 so that cmd.exe
// never finds a program planted in the Downloads folder.
func command(sys, name, args string) *exec.Cmd {
	path := filepath.Join(sys, name)
	cmd := exec.Command(path)
	cmd.Dir = sys
	cmd.SysProcAttr = &syscall.SysProcAttr{HideWindow: true, CreationFlags: windows.CREATE_NO_WINDOW,
		CmdLine: `"` + path + `" ` + args}
	return cmd
}
