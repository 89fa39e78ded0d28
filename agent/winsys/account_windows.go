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

// NET_API_STATUS values and flags the app uses (lmerr.h, lmaccess.h).
const (
	nerrUserNotFound     = 2221
	nerrUserExists       = 2224
	nerrPasswordTooShort = 2245
	errorMemberInAlias   = 1378
	userPrivUser         = 1
	ufScript             = 0x0001
	ufAccountDisable     = 0x0002
	ufNormalAccount      = 0x0200
	ufDontExpirePasswd   = 0x10000
	maxStorageUnlimited  = 0xFFFFFFFF
	userListKey          = `SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\SpecialAccounts\UserList`
)

// userInfo2 is USER_INFO_2: everything set in the one NetUserAdd call.
type userInfo2 struct {
	name, password          *uint16
	passwordAge, priv       uint32
	homeDir, comment        *uint16
	flags                   uint32
	scriptPath              *uint16
	authFlags               uint32
	fullName, usrComment    *uint16
	parms, workstations     *uint16
	lastLogon, lastLogoff   uint32
	acctExpires, maxStorage uint32
	unitsPerWeek            uint32
	logonHours              *byte
	badPwCount, numLogons   uint32
	logonServer             *uint16
	countryCode, codePage   uint32
}

func netErr(op string, status uintptr) error {
	switch status {
	case nerrPasswordTooShort:
		return support.ErrPasswordPolicy
	case nerrUserExists:
		return support.ErrAccountExists
	}
	if text := nerrText(uint32(status)); text != "" {
		return fmt.Errorf("%s: %s", op, text)
	}
	return fmt.Errorf("%s: %w", op, syscall.Errno(status))
}

func ptr(u []uint16) *uint16 {
	if len(u) == 0 {
		return nil
	}
	return &u[0]
}

// AddAccount creates the account at level 2 with its expiry (seconds since
// 1970 UTC; Windows disables it then even if the app is gone), full name,
// description and flags, in one call: there is no moment when it exists
// without them.
func (*System) AddAccount(a support.Account) error {
	if len(a.Name) > 20 {
		return fmt.Errorf("account name %q is longer than Windows' 20 characters", a.Name)
	}
	var fields [4][]uint16
	for i, s := range []string{a.Name, a.Password, a.Comment, a.FullName} {
		u, err := utf16z(s)
		if err != nil {
			return fmt.Errorf("the account's details: %w", err)
		}
		fields[i] = u
	}
	u := userInfo2{name: ptr(fields[0]), password: ptr(fields[1]), priv: userPrivUser, comment: ptr(fields[2]),
		fullName: ptr(fields[3]), flags: ufScript | ufNormalAccount | ufDontExpirePasswd,
		acctExpires: uint32(a.Expires.Unix()), maxStorage: maxStorageUnlimited}
	var parmErr uint32
	r, _, err := call(procNetUserAdd, 0, 2, uintptr(unsafe.Pointer(&u)), uintptr(unsafe.Pointer(&parmErr)))
	clear(fields[1]) // the password's copy
	if err != nil {
		return err
	}
	if r != 0 {
		return netErr("creating the account", r)
	}
	return nil
}

// AccountSID looks the name up qualified with this PC's (NetBIOS) name, so
// a domain account of the same name is never touched.
func (*System) AccountSID(name string) (string, error) {
	computer, err := windows.ComputerName()
	if err != nil {
		return "", err
	}
	sid, domain, _, err := windows.LookupSID("", computer+`\`+name)
	if errors.Is(err, windows.ERROR_NONE_MAPPED) {
		return "", support.ErrNoAccount
	}
	if err != nil {
		return "", fmt.Errorf("finding the account: %w", err)
	}
	if !strings.EqualFold(domain, computer) {
		return "", support.ErrNoAccount
	}
	return sid.String(), nil
}

// AddToAdministrators adds the account, by its SID, to the group with the
// well-known SID S-1-5-32-544, whose name is translated on non-English
// Windows ("Administratoren").
func (s *System) AddToAdministrators(name string) error {
	group, err := windows.CreateWellKnownSid(windows.WinBuiltinAdministratorsSid)
	if err != nil {
		return err
	}
	groupName, _, _, err := group.LookupAccount("")
	if err != nil {
		return fmt.Errorf("finding the Administrators group: %w", err)
	}
	sidText, err := s.AccountSID(name)
	if err != nil {
		return err
	}
	member, err := windows.StringToSid(sidText)
	if err != nil {
		return err
	}
	g, err := utf16z(groupName)
	if err != nil {
		return err
	}
	r, _, err := call(procNetLocalGroupAddMembers, 0, uintptr(unsafe.Pointer(ptr(g))), 0, // LOCALGROUP_MEMBERS_INFO_0: one PSID
		uintptr(unsafe.Pointer(&member)), 1)
	if err != nil {
		return err
	}
	if r != 0 && r != errorMemberInAlias {
		return netErr("adding the account to the Administrators group", r)
	}
	return nil
}

// DisableAccount sets UF_ACCOUNTDISABLE (USER_INFO_1008).
func (*System) DisableAccount(name string) error {
	n, err := utf16z(name)
	if err != nil {
		return err
	}
	flags := uint32(ufScript | ufNormalAccount | ufDontExpirePasswd | ufAccountDisable)
	r, _, err := call(procNetUserSetInfo, 0, uintptr(unsafe.Pointer(ptr(n))), 1008, uintptr(unsafe.Pointer(&flags)), 0)
	if err != nil {
		return err
	}
	if r != 0 && r != nerrUserNotFound {
		return netErr("disabling the account", r)
	}
	return nil
}

// DeleteProfile deletes the profile folder and ProfileList key of sid.
// Windows refuses while the profile is loaded (its user was just signed
// out): that is support.ErrProfileBusy, and the caller retries.
func (*System) DeleteProfile(sid string) error {
	s, err := utf16z(sid)
	if err != nil {
		return err
	}
	r, e, err := call(procDeleteProfileW, uintptr(unsafe.Pointer(ptr(s))), 0, 0)
	switch {
	case err != nil:
		return err
	case r != 0, errors.Is(e, windows.ERROR_FILE_NOT_FOUND), errors.Is(e, windows.ERROR_PATH_NOT_FOUND):
		return nil
	case errors.Is(e, windows.ERROR_SHARING_VIOLATION), errors.Is(e, windows.ERROR_ACCESS_DENIED), errors.Is(e, windows.ERROR_BUSY):
		return fmt.Errorf("%w: %v", support.ErrProfileBusy, e)
	}
	return fmt.Errorf("deleting the profile: %w", e)
}

// DeleteAccount deletes the account; a missing one is fine.
func (*System) DeleteAccount(name string) error {
	n, err := utf16z(name)
	if err != nil {
		return err
	}
	r, _, err := call(procNetUserDel, 0, uintptr(unsafe.Pointer(ptr(n))))
	if err != nil {
		return err
	}
	if r != 0 && r != nerrUserNotFound {
		return netErr("deleting the account", r)
	}
	return nil
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
