package hublink

import (
	"net"
	"net/netip"
)

// AddressKey is the key a remote address (IP or IP:port) is counted under
// by every per-address limit, the hub's and the station's: an IPv4 address
// (also when IPv4-mapped), or the /64 of an IPv6 one, since one IPv6
// network hands out addresses without end. One function, so the hub and
// the station count a client the hub names (ControlMessage.Client) alike.
func AddressKey(remote string) string {
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64)
	return p.String()
}
