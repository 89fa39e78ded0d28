package support

import (
	"errors"
	"strings"

	"golang.org/x/sys/windows"

	"adhocstation/core/wire"
)

// driveKinds names GetDriveType's answers.
var driveKinds = map[uint32]string{
	windows.DRIVE_REMOVABLE: "removable",
	windows.DRIVE_FIXED:     "fixed",
	windows.DRIVE_REMOTE:    "network",
	windows.DRIVE_CDROM:     "cd-rom",
	windows.DRIVE_RAMDISK:   "ram disk",
}

// listDrives lists the logical drives (GetLogicalDrives) with their kind,
// label and space; a drive without a medium (an empty card reader) comes
// without space.
func listDrives() ([]wire.Drive, error) {
	mask, err := windows.GetLogicalDrives()
	if err != nil {
		return nil, err
	}
	var out []wire.Drive
	for i := range 26 {
		if mask&(1<<i) == 0 {
			continue
		}
		root := string(rune('A'+i)) + `:\`
		p, _ := windows.UTF16PtrFromString(root)
		kind := windows.GetDriveType(p)
		if kind == windows.DRIVE_NO_ROOT_DIR {
			continue
		}
		d := wire.Drive{Path: root, Kind: driveKinds[kind]}
		var free, total, totalFree uint64
		if windows.GetDiskFreeSpaceEx(p, &free, &total, &totalFree) == nil {
			d.Total, d.Free = total, free
		}
		label := make([]uint16, windows.MAX_PATH+1)
		if windows.GetVolumeInformation(p, &label[0], uint32(len(label)), nil, nil, nil, nil, 0) == nil {
			d.Label = strings.TrimSpace(windows.UTF16ToString(label))
		}
		out = append(out, d)
	}
	return out, nil
}

func inUse(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_LOCK_VIOLATION)
}
