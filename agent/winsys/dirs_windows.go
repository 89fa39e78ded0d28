package winsys

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"

	"adhocstation/agent/support"
)

// Security descriptors, set explicitly (never inherited from the parent,
// where ordinary users may create files): owner Administrators, full
// control for SYSTEM and Administrators. The install folder also lets
// users read and run the program, since the tray helper runs as the user.
const (
	adminOnlySDDL = "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
	installSDDL   = "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;GRGX;;;BU)"
)

// fileDeleteChild is FILE_DELETE_CHILD (winnt.h), not in x/sys.
const fileDeleteChild = 0x40

func stateDir() (string, error) {
	base, err := windows.KnownFolderPath(windows.FOLDERID_ProgramData, 0)
	return filepath.Join(base, "AdHocSupport"), err
}

func installDir() (string, error) {
	base, err := windows.KnownFolderPath(windows.FOLDERID_ProgramFiles, 0)
	return filepath.Join(base, "AdHocSupport"), err
}

// secureDir returns dir after making sure this app can trust it: created
// now with sddl, or existing as a real folder (no reparse point) owned by
// Administrators or SYSTEM with a protected DACL naming only them (and, for
// sddl's read-only ACEs, users). Anything else is support.ErrStateDirUntrusted.
func secureDir(dir, sddl string) error {
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return err
	}
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return err
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	err = windows.CreateDirectory(p, sa)
	if err == nil {
		return nil
	}
	if !errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
		return err
	}
	return checkDir(dir, p)
}

func checkDir(dir string, p *uint16) error {
	attrs, err := windows.GetFileAttributes(p)
	if err != nil {
		return err
	}
	if attrs&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 || attrs&windows.FILE_ATTRIBUTE_DIRECTORY == 0 {
		return fmt.Errorf("%w: %s is a link or not a folder", support.ErrStateDirUntrusted, dir)
	}
	have, err := windows.GetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return err
	}
	owner, _, err := have.Owner()
	if err != nil || !(owner.IsWellKnown(windows.WinBuiltinAdministratorsSid) || owner.IsWellKnown(windows.WinLocalSystemSid)) {
		return fmt.Errorf("%w: %s has another owner", support.ErrStateDirUntrusted, dir)
	}
	ctl, _, err := have.Control()
	if err != nil || ctl&windows.SE_DACL_PROTECTED == 0 {
		return fmt.Errorf("%w: %s inherits its permissions", support.ErrStateDirUntrusted, dir)
	}
	dacl, _, err := have.DACL()
	if err != nil || dacl == nil {
		return fmt.Errorf("%w: %s has no access list", support.ErrStateDirUntrusted, dir)
	}
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return err
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		trusted := sid.IsWellKnown(windows.WinBuiltinAdministratorsSid) || sid.IsWellKnown(windows.WinLocalSystemSid)
		readOnly := ace.Mask&(windows.FILE_WRITE_DATA|windows.FILE_APPEND_DATA|windows.DELETE|windows.WRITE_DAC|windows.WRITE_OWNER|
			windows.FILE_WRITE_ATTRIBUTES|windows.FILE_WRITE_EA|fileDeleteChild|windows.GENERIC_WRITE|windows.GENERIC_ALL) == 0
		if ace.Header.AceType == windows.ACCESS_ALLOWED_ACE_TYPE && !trusted && !readOnly {
			return fmt.Errorf("%w: someone else may write in %s", support.ErrStateDirUntrusted, dir)
		}
	}
	return nil
}

// resetDir deletes dir without following links (a junction is removed
// itself, not what it points to) and creates it again with sddl.
func resetDir(dir, sddl string) error {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return err
	}
	attrs, err := windows.GetFileAttributes(p)
	switch {
	case errors.Is(err, windows.ERROR_FILE_NOT_FOUND) || errors.Is(err, windows.ERROR_PATH_NOT_FOUND):
	case err != nil:
		return err
	case attrs&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0:
		if err := windows.RemoveDirectory(p); err != nil {
			return fmt.Errorf("removing the link %s: %w", dir, err)
		}
	default:
		// os.RemoveAll removes links inside as links, without following them.
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	return secureDir(dir, sddl)
}

// StateDir returns %ProgramData%\AdHocSupport (see support.System).
func (*System) StateDir() (string, error) {
	dir, err := stateDir()
	if err != nil {
		return "", err
	}
	return dir, secureDir(dir, adminOnlySDDL)
}

// ResetStateDir deletes and recreates the state folder.
func (*System) ResetStateDir() error {
	dir, err := stateDir()
	if err != nil {
		return err
	}
	return resetDir(dir, adminOnlySDDL)
}

// writeFile creates path with an explicit admin-only security descriptor
// (not whatever the folder would pass on) and writes b.
func writeFile(path string, b []byte, sddl string) error {
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return err
	}
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return err
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	h, err := windows.CreateFile(p, windows.GENERIC_WRITE, 0, sa, windows.CREATE_ALWAYS,
		windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(h), path)
	_, err = f.Write(b)
	return errors.Join(err, f.Sync(), f.Close())
}

const logName = "service.log"

// CreateLog opens the service's log for appending, created with an
// admin-only security descriptor and shared for deletion, so Uninstall can
// delete it while it is still open.
func CreateLog(path string) (*os.File, error) {
	sd, err := windows.SecurityDescriptorFromString(adminOnlySDDL)
	if err != nil {
		return nil, err
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	h, err := windows.CreateFile(wptr(path), windows.FILE_APPEND_DATA,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_DELETE, sa, windows.OPEN_ALWAYS,
		windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(h), path), nil
}

// RemoveStateDirIfEmpty removes the state folder once its last file (the
// log, deleted while open) is closed; a folder still in use stays.
func RemoveStateDirIfEmpty() {
	if dir, err := stateDir(); err == nil {
		_ = windows.RemoveDirectory(wptr(dir))
	}
}

// WriteAdminFile creates name with an explicit admin-only descriptor (for
// the session record), replacing any file of that name.
func WriteAdminFile(name string, data []byte) error {
	return writeFile(name, data, adminOnlySDDL)
}
