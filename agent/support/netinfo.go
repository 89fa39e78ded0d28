package support

import (
	"net"

	"adhocstation/core/wire"
)

// Addresses lists the PC's network adapters that are up, with their
// addresses, loopback left out (portable: the same on Windows and Linux).
func Addresses() []wire.Interface {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []wire.Interface
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := i.Addrs()
		if err != nil || len(addrs) == 0 {
			continue
		}
		w := wire.Interface{Name: i.Name}
		for _, a := range addrs {
			w.Addresses = append(w.Addresses, a.String())
		}
		out = append(out, w)
	}
	return out
}
