//go:build !windows

package main

import (
	"log/slog"
	"net"
)

// firewallNote is for Windows Defender Firewall (firewall_windows.go); on
// Linux the README says which port to open.
func firewallNote(net.Addr, *slog.Logger) (string, func() error) { return "", nil }
