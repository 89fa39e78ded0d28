package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"adhocstation/core/firewall"
)

// firewallNote checks that Windows Defender Firewall has the station's rule
// for the pairing port; without it PCs on the network may not reach the
// station, so the window says so and offers to add it.
func firewallNote(addr net.Addr, logger *slog.Logger) (string, func() error) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "", nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", nil
	}
	fw := firewall.Netsh{Run: firewall.Exec, Program: exe}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	allowed, err := fw.Allowed(ctx, tcp.Port)
	if err != nil {
		logger.Warn("could not check Windows Defender Firewall", "err", err)
		return "", nil
	}
	if allowed {
		return "", nil
	}
	note := fmt.Sprintf("Windows Defender Firewall has no rule for the pairing port %d yet, so PCs may not reach this station. "+
		"If Windows asked whether to allow this app when it started, Allow on private networks is enough; "+
		"otherwise click Allow pairing through the firewall (Windows asks for administrator rights) "+
		"or ask an administrator to allow inbound TCP port %d for %s.", tcp.Port, tcp.Port, exe)
	return note, func() error { return fw.Allow(context.Background(), tcp.Port) }
}
