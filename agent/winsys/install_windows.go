package winsys

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

// ServiceName is the Windows service that owns the session.
const ServiceName = "AdHocSupport"

const (
	exeName         = "AdHocSupport.exe"
	installFileSDDL = "O:BAD:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;GRGX;;;BU)"
)

var image struct {
	once sync.Once
	f    *os.File
	err  error
}

// program opens the running program once, at the first use, and keeps it
// open without delete or write sharing: the downloaded file can then no
// longer be swapped (renamed away and replaced) before it is copied.
func program() (*os.File, error) {
	image.once.Do(func() {
		path, err := os.Executable()
		if err != nil {
			image.err = err
			return
		}
		p, err := windows.UTF16PtrFromString(path)
		if err != nil {
			image.err = err
			return
		}
		h, err := windows.CreateFile(p, windows.GENERIC_READ, windows.FILE_SHARE_READ, nil, windows.OPEN_EXISTING,
			windows.FILE_ATTRIBUTE_NORMAL, 0)
		if err != nil {
			image.err = fmt.Errorf("opening %s: %w", path, err)
			return
		}
		image.f = os.NewFile(uintptr(h), path)
	})
	return image.f, image.err
}

// Executable returns the running program's path (opening it, see program).
func (*System) Executable() (string, error) {
	f, err := program()
	if err != nil {
		return "", err
	}
	return f.Name(), nil
}

// ReadTail returns the last n bytes of the running program; any other path
// is refused, so nothing else is ever read.
func (*System) ReadTail(path string, n int) ([]byte, error) {
	f, err := program()
	if err != nil {
		return nil, err
	}
	if path != f.Name() {
		return nil, fmt.Errorf("%s is not this program", path)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	b := make([]byte, min(int64(n), fi.Size()))
	_, err = f.ReadAt(b, fi.Size()-int64(len(b)))
	return b, err
}

// Installed reports whether this process runs from the install folder.
func Installed() bool {
	dir, err := installDir()
	exe, eerr := os.Executable()
	return err == nil && eerr == nil && filepath.Dir(exe) == dir
}

// Install copies the running program (through the handle opened at start)
// into %ProgramFiles%\AdHocSupport with an explicit security descriptor and
// registers the service that runs it from there.
func (s *System) Install(exe string) error {
	dir, err := installDir()
	if err != nil {
		return err
	}
	target := filepath.Join(dir, exeName)
	if Installed() {
		return installService(target) // already the installed copy
	}
	if err := secureDir(dir, installSDDL); err != nil {
		if err := resetDir(dir, installSDDL); err != nil {
			return fmt.Errorf("preparing %s: %w", dir, err)
		}
	}
	f, err := program()
	if err != nil {
		return err
	}
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<30))
	if err != nil {
		return err
	}
	tmp := target + ".new"
	if err := writeFile(tmp, b, installFileSDDL); err != nil {
		return fmt.Errorf("copying the app to %s: %w", dir, err)
	}
	if err := windows.MoveFileEx(wptr(tmp), wptr(target), windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH); err != nil {
		return errors.Join(err, windows.DeleteFile(wptr(tmp)))
	}
	return installService(target)
}

// installService registers (or updates) the service: LocalSystem,
// automatic start, restarted by Windows if it stops on a failure.
func installService(target string) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("opening the service manager: %w", err)
	}
	defer m.Disconnect()
	cfg := mgr.Config{StartType: mgr.StartAutomatic, DisplayName: "Ad Hoc Support Session",
		Description: "Keeps an Ad Hoc Support session to its time and removes the support account and this app afterwards."}
	srv, err := m.OpenService(ServiceName)
	if err == nil {
		have, cerr := srv.Config()
		if cerr == nil {
			have.StartType, have.DisplayName, have.Description = cfg.StartType, cfg.DisplayName, cfg.Description
			have.BinaryPathName = `"` + target + `" --service`
			cerr = srv.UpdateConfig(have)
		}
		if cerr != nil {
			srv.Close()
			return cerr
		}
	} else if srv, err = m.CreateService(ServiceName, target, cfg, "--service"); err != nil {
		return fmt.Errorf("creating the service: %w", err)
	}
	defer srv.Close()
	restart := []mgr.RecoveryAction{{Type: mgr.ServiceRestart, Delay: 5 * time.Second},
		{Type: mgr.ServiceRestart, Delay: 30 * time.Second}, {Type: mgr.ServiceRestart, Delay: time.Minute}}
	if err := srv.SetRecoveryActions(restart, 24*60*60); err != nil {
		return fmt.Errorf("setting the service's restart: %w", err)
	}
	// Also after an exit with an error code (the session not done yet).
	// Windows 10/11 know this setting; Wine does not (ERROR_INVALID_LEVEL),
	// and there the restart after a crash is all there is.
	if err := srv.SetRecoveryActionsOnNonCrashFailures(true); err != nil && !errors.Is(err, windows.ERROR_INVALID_LEVEL) {
		return fmt.Errorf("setting the service's restart after a failure exit: %w", err)
	}
	return nil
}

// StartService starts the installed service (the first run hands over).
func StartService() error {
	m, err := mgr.Connect()
	if err != nil {
		return err
	}
	defer m.Disconnect()
	srv, err := m.OpenService(ServiceName)
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := srv.Start(); err != nil && !errors.Is(err, windows.ERROR_SERVICE_ALREADY_RUNNING) {
		return err
	}
	return nil
}

// Uninstall deletes the service, the state folder and the installed copy,
// all through the API. The program a process runs from cannot be deleted
// while it runs: it is renamed and left to Windows to delete at the next
// restart, together with the folder (which only administrators can write).
func (*System) Uninstall() error {
	var errs []error
	// Only a service that is not there is no error: the cleanup receipt
	// says whether the app was removed, so a refused one must be told.
	if m, err := mgr.Connect(); err != nil {
		errs = append(errs, fmt.Errorf("opening the service manager: %w", err))
	} else {
		if srv, err := m.OpenService(ServiceName); err == nil {
			_, _ = srv.Control(svc.Stop) // fails when the caller is the service itself
			if err := srv.Delete(); err != nil && !errors.Is(err, windows.ERROR_SERVICE_MARKED_FOR_DELETE) {
				errs = append(errs, fmt.Errorf("deleting the service: %w", err))
			}
			srv.Close()
		} else if !errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
			errs = append(errs, fmt.Errorf("opening the service to delete it: %w", err))
		}
		m.Disconnect()
	}
	if dir, err := stateDir(); err == nil {
		// The log may still be open (shared for deletion): it goes when
		// closed, and the folder with it (RemoveStateDirIfEmpty).
		for _, name := range []string{logName, screenLogName, screenOldLogName} {
			_ = windows.DeleteFile(wptr(filepath.Join(dir, name)))
		}
		_ = windows.RemoveDirectory(wptr(dir))
	}
	dir, err := installDir()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	target := filepath.Join(dir, exeName)
	if err := windows.DeleteFile(wptr(target)); err != nil && !errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
		old := filepath.Join(dir, fmt.Sprintf("%s.%d.old", exeName, os.Getpid()))
		if err := windows.MoveFileEx(wptr(target), wptr(old), 0); err == nil {
			target = old
		}
		if err := windows.MoveFileEx(wptr(target), nil, windows.MOVEFILE_DELAY_UNTIL_REBOOT); err != nil {
			errs = append(errs, fmt.Errorf("scheduling %s for deletion: %w", target, err))
		}
	}
	if err := windows.RemoveDirectory(wptr(dir)); err != nil && !errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
		_ = windows.MoveFileEx(wptr(dir), nil, windows.MOVEFILE_DELAY_UNTIL_REBOOT)
	}
	return errors.Join(errs...)
}

// wptr is for paths this app builds from known folders (never a NUL).
func wptr(s string) *uint16 {
	p, _ := windows.UTF16PtrFromString(s)
	return p
}
