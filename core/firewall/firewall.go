// Package firewall tells whether Windows Defender Firewall lets PCs reach the
// pairing port, and adds the rule that does, through netsh. The commands go
// through a Runner so the logic is tested on any system with a fake.
package firewall

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Runner runs a program and returns its combined output; an error that
// wraps *exec.ExitError means it ran and answered no.
type Runner func(ctx context.Context, name string, args ...string) ([]byte, error)

// Exec runs programs for real.
func Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, name, args...).CombinedOutput()
}

// Firewall is what the station needs from the host's firewall.
type Firewall interface {
	// Allowed tells whether the station's inbound rule for port exists.
	Allowed(ctx context.Context, port int) (bool, error)
	// Allow adds it; Windows asks the user for administrator rights.
	Allow(ctx context.Context, port int) error
}

// Netsh is Windows Defender Firewall driven by netsh.exe.
type Netsh struct {
	Run     Runner
	Program string // the station's exe: the rule admits this program only
}

// RuleName names the station's rule; it carries the port, so a changed
// pairing port is seen as not yet allowed.
func RuleName(port int) string { return fmt.Sprintf("Ad Hoc Support Station pairing (TCP %d)", port) }

// Allowed reads only netsh's exit status: its text is in the system's language.
func (n Netsh) Allowed(ctx context.Context, port int) (bool, error) {
	_, err := n.Run(ctx, "netsh", "advfirewall", "firewall", "show", "rule", "name="+RuleName(port))
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit):
		return false, nil // "No rules match the specified criteria."
	default:
		return false, fmt.Errorf("netsh could not be run to check Windows Defender Firewall: %w", err)
	}
}

// AddRuleArgs are netsh's arguments for the rule: inbound TCP on port for
// the station's program, on domain and private networks (a network Windows
// calls public, such as a café's, stays closed).
func AddRuleArgs(port int, program string) []string {
	return []string{"advfirewall", "firewall", "add", "rule", "name=" + RuleName(port), "dir=in", "action=allow",
		"protocol=TCP", fmt.Sprintf("localport=%d", port), "profile=domain,private", "program=" + program}
}

// Allow starts netsh elevated through PowerShell's Start-Process -Verb RunAs,
// which shows the administrator prompt and waits for netsh to finish, then
// checks that the rule is there (the prompt may have been refused).
func (n Netsh) Allow(ctx context.Context, port int) error {
	quoted := make([]string, 0, 11)
	for _, a := range AddRuleArgs(port, n.Program) {
		// netsh takes name="a b"; PowerShell's single quotes keep it literal.
		if k, v, ok := strings.Cut(a, "="); ok && strings.ContainsRune(v, ' ') {
			a = k + `="` + v + `"`
		}
		quoted = append(quoted, a)
	}
	script := "Start-Process -FilePath netsh.exe -Verb RunAs -Wait -WindowStyle Hidden -ArgumentList '" +
		strings.ReplaceAll(strings.Join(quoted, " "), "'", "''") + "'"
	if out, err := n.Run(ctx, "powershell.exe", "-NoProfile", "-NonInteractive", "-Command", script); err != nil {
		return fmt.Errorf("the firewall rule was not added: the administrator prompt was refused or failed (%v %s)", err, strings.TrimSpace(string(out)))
	}
	ok, err := n.Allowed(ctx, port)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the firewall rule %q is still missing: ask an administrator to allow TCP port %d for this program", RuleName(port), port)
	}
	return nil
}
