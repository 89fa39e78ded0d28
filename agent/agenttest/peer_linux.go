package agenttest

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"adhocstation/agent/pipe"
)

// PeerCred names the caller of a Unix socket by the kernel's SO_PEERCRED,
// as the Windows service names a pipe's client by its token: root, or the
// user the service runs as, is the administrator.
func PeerCred(c net.Conn) (pipe.Caller, error) {
	raw, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		return pipe.Caller{}, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil {
		return pipe.Caller{}, err
	}
	if cerr != nil {
		return pipe.Caller{}, cerr
	}
	// One Linux machine is one console: every caller is at it.
	return pipe.Caller{User: fmt.Sprint(cred.Uid), Admin: cred.Uid == 0 || int(cred.Uid) == os.Getuid(), Console: true}, nil
}
