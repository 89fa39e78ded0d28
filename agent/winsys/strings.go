package winsys

import (
	"errors"
	"strings"
	"unicode/utf16"
)

// utf16z converts s to a NUL-terminated UTF-16 string for a Windows call.
// A NUL inside s is refused: Windows would read only the part before it
// (for a password: a shorter or blank one). No Windows calls here, so it is
// tested on Linux.
func utf16z(s string) ([]uint16, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, errors.New("the text contains a NUL character, which Windows cannot take")
	}
	return append(utf16.Encode([]rune(s)), 0), nil
}

// nerrText gives the NET_API_STATUS codes the app can meet a sentence:
// they live in netmsg.dll, so Windows' FormatMessage for them is empty.
func nerrText(code uint32) string {
	switch code {
	case 2220:
		return "the group does not exist (NERR_GroupNotFound, 2220)"
	case 2221:
		return "the user account does not exist (NERR_UserNotFound, 2221)"
	case 2224:
		return "the user account already exists (NERR_UserExists, 2224)"
	case 2226:
		return "this operation is allowed only on the domain's primary controller (NERR_NotPrimary, 2226)"
	case 2245:
		return "the password does not meet this PC's password rules (NERR_PasswordTooShort, 2245)"
	case 2351:
		return "the computer name is not valid (NERR_InvalidComputer, 2351)"
	case 5:
		return "access denied: the app must run as an administrator (ERROR_ACCESS_DENIED, 5)"
	case 87:
		return "a parameter is not valid (ERROR_INVALID_PARAMETER, 87)"
	case 1378:
		return "the account is already a member of the group (ERROR_MEMBER_IN_ALIAS, 1378)"
	}
	return ""
}
