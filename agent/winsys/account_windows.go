package winsys

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"adhocstation/agent/support"
)

var (
	netapi32                    = windows.NewLazySystemDLL("netapi32.dll")
	procNetUserAdd              = netapi32.NewProc("NetUserAdd")
	procNetUserDel              = netapi32.NewProc("NetUserDel")
	procNetUserSetInfo          = netapi32.NewProc("NetUserSetInfo")
	procNetLocalGroupAddMembers = netapi32.NewProc("NetLocalGroupAddMembers")
	userenv                     = windows.NewLazySystemDLL("userenv.dll")
	procDeleteProfileW          = userenv.NewProc("DeleteProfileW")
)

// NET_API_STATUS values the app acts on (lmerr.h, winerror.h).
const (
	nerrUserNotFound      = 2221
	nerrUserExists        = 2224
	nerrPasswordTooShort  = 2245
	errorMemberInAlias    = 1378
	errorAccessDenied     = 5
	userPrivUser          = 1
	ufScript              = 0x0001
	ufDontExpirePasswd    = 0x10000
	userListKey           = `SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\SpecialAccounts\UserList`
	infoLevelFullName     = 1011
	infoLevelAcctExpires  = 1017
	infoLevelGroupMembers = 3
)

// userInfo1 is USER_INFO_1.
type userInfo1 struct {
	name, password *uint16
	passwordAge    uint32
	priv           uint32
	homeDir        *uint16
	comment        *uint16
	flags          uint32
	scriptPath     *uint16
}

func netErr(op string, status uintptr) error {
	switch status {
	case nerrPasswordTooShort:
		return support.ErrPasswordPolicy
	case nerrUserExists:
		return support.ErrAccountExists
	case errorAccessDenied:
		return fmt.Errorf("%s: access denied; the app must run as an administrator", op)
	}
	return fmt.Errorf("%s: %w", op, syscall.Errno(status))
}

func wstr(s string) *uint16 {
	p, _ := windows.UTF16PtrFromString(s) // our own strings never hold NUL
	return p
}

// CreateAccount creates the local account with a password that never
// expires, an account expiry at a.Expires (Windows disables it then, even
// if the app is gone), and adds it to the Administrators group. On any
// failure after NetUserAdd the account is deleted again.
func (s *System) CreateAccount(a support.Account) error {
	if len(a.Name) > 20 {
		return fmt.Errorf("account name %q is longer than Windows' 20 characters", a.Name)
	}
	u := userInfo1{name: wstr(a.Name), password: wstr(a.Password), priv: userPrivUser,
		comment: wstr(a.Comment), flags: ufScript | ufDontExpirePasswd}
	var parmErr uint32
	r, _, _ := procNetUserAdd.Call(0, 1, uintptr(unsafe.Pointer(&u)), uintptr(unsafe.Pointer(&parmErr)))
	if r != 0 {
		return netErr("creating the account", r)
	}
	if err := s.configure(a); err != nil {
		return errors.Join(err, s.DeleteAccount(a.Name))
	}
	return nil
}

func (s *System) configure(a support.Account) error {
	expires := uint32(a.Expires.Unix()) // seconds since 1970 UTC, as USER_INFO_1017 wants
	if r, _, _ := procNetUserSetInfo.Call(0, uintptr(unsafe.Pointer(wstr(a.Name))), infoLevelAcctExpires,
		uintptr(unsafe.Pointer(&expires)), 0); r != 0 {
		return netErr("setting the account's expiry", r)
	}
	full := wstr(a.FullName)
	if r, _, _ := procNetUserSetInfo.Call(0, uintptr(unsafe.Pointer(wstr(a.Name))), infoLevelFullName,
		uintptr(unsafe.Pointer(&full)), 0); r != 0 {
		return netErr("setting the account's full name", r)
	}
	group, err := administratorsGroup()
	if err != nil {
		return err
	}
	member := wstr(a.Name) // LOCALGROUP_MEMBERS_INFO_3: one pointer
	r, _, _ := procNetLocalGroupAddMembers.Call(0, uintptr(unsafe.Pointer(wstr(group))), infoLevelGroupMembers,
		uintptr(unsafe.Pointer(&member)), 1)
	if r != 0 && r != errorMemberInAlias {
		return netErr("adding the account to the Administrators group", r)
	}
	return nil
}

// administratorsGroup returns the local name of the Administrators group,
// found by its well-known SID S-1-5-32-544: the name is translated on
// non-English Windows ("Administratoren", "Administrateurs").
func administratorsGroup() (string, error) {
	sid, err := windows.CreateWellKnownSid(windows.WinBuiltinAdministratorsSid)
	if err != nil {
		return "", err
	}
	name, _, _, err := sid.LookupAccount("")
	if err != nil {
		return "", fmt.Errorf("finding the Administrators group: %w", err)
	}
	return name, nil
}

// DeleteAccount deletes the account's profile (folder and registry hive)
// first — once the account is gone its SID can no longer be looked up —
// and then the account. A missing account is not an error.
func (s *System) DeleteAccount(name string) error {
	// Qualified with this PC's name, so that on a domain-joined PC a domain
	// account of the same name (and its profile) is never touched.
	computer, err := windows.ComputerName()
	if err != nil {
		return err
	}
	sid, domain, _, err := windows.LookupSID("", computer+`\`+name)
	if errors.Is(err, windows.ERROR_NONE_MAPPED) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("finding the account: %w", err)
	}
	if !strings.EqualFold(domain, computer) {
		return nil
	}
	var profileErr error
	r, _, e := procDeleteProfileW.Call(uintptr(unsafe.Pointer(wstr(sid.String()))), 0, 0)
	if r == 0 && !errors.Is(e, windows.ERROR_FILE_NOT_FOUND) && !errors.Is(e, windows.ERROR_PATH_NOT_FOUND) {
		// Usually the technician is still signed in with it; the account goes anyway.
		profileErr = fmt.Errorf("%w: %v", support.ErrProfileNotRemoved, e)
	}
	if r, _, _ := procNetUserDel.Call(0, uintptr(unsafe.Pointer(wstr(name)))); r != 0 && r != nerrUserNotFound {
		return netErr("deleting the account", r)
	}
	return profileErr
}

// HideAccount hides the account from the sign-in screen (UserList value 0).
func (*System) HideAccount(name string) error {
	k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, userListKey, registry.SET_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return err
	}
	defer k.Close()
	return k.SetDWordValue(name, 0)
}

// UnhideAccount removes the hiding value; a missing one is fine.
func (*System) UnhideAccount(name string) error {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, userListKey, registry.SET_VALUE|registry.WOW64_64KEY)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer k.Close()
	if err := k.DeleteValue(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return err
	}
	return nil
}
