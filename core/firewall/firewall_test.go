package firewall

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// fakeNetsh keeps the rules netsh would have; a missing rule answers with a
// real exit status, as netsh does.
type fakeNetsh struct {
	rules   map[string]bool
	refuse  bool // the administrator prompt is refused
	calls   [][]string
	missing bool // netsh cannot be found
}

func (f *fakeNetsh) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	f.calls = append(f.calls, append([]string{name}, args...))
	if f.missing {
		return nil, exec.ErrNotFound
	}
	switch {
	case name == "netsh" && slices.Equal(args[:4], []string{"advfirewall", "firewall", "show", "rule"}):
		if f.rules[strings.TrimPrefix(args[4], "name=")] {
			return []byte("Rule Name: ..."), nil
		}
		return []byte("No rules match the specified criteria."), exec.Command("false").Run()
	case name == "powershell.exe":
		if f.refuse {
			return []byte("The operation was canceled by the user."), exec.Command("false").Run()
		}
		script := args[len(args)-1]
		if i := strings.Index(script, `name="`); i >= 0 {
			rest := script[i+len(`name="`):]
			f.rules[rest[:strings.IndexByte(rest, '"')]] = true
		}
		return nil, nil
	}
	return nil, errors.New("unexpected command " + name)
}

func TestAllowedReadsTheExitStatus(t *testing.T) {
	ctx := context.Background()
	f := &fakeNetsh{rules: map[string]bool{RuleName(8443): true}}
	n := Netsh{Run: f.run, Program: `C:\Apps\adhoc-station.exe`}
	if ok, err := n.Allowed(ctx, 8443); !ok || err != nil {
		t.Errorf("rule present: Allowed = %v, %v; want true", ok, err)
	}
	if ok, err := n.Allowed(ctx, 9443); ok || err != nil {
		t.Errorf("another port: Allowed = %v, %v; want false without error", ok, err)
	}
	f.missing = true
	if _, err := n.Allowed(ctx, 8443); err == nil || !strings.Contains(err.Error(), "netsh could not be run") {
		t.Errorf("netsh missing: err = %v", err)
	}
}

func TestAllowAddsTheRuleElevated(t *testing.T) {
	ctx := context.Background()
	f := &fakeNetsh{rules: map[string]bool{}}
	n := Netsh{Run: f.run, Program: `C:\Program Files\Ad Hoc\adhoc-station.exe`}
	if err := n.Allow(ctx, 8443); err != nil {
		t.Fatal(err)
	}
	if ok, _ := n.Allowed(ctx, 8443); !ok {
		t.Fatal("the rule is not there after Allow")
	}
	ps := f.calls[0]
	script := ps[len(ps)-1]
	for _, want := range []string{"-Verb RunAs", "-Wait", `name="Ad Hoc Support Station pairing (TCP 8443)"`,
		"dir=in", "action=allow", "protocol=TCP", "localport=8443", "profile=domain,private",
		`program="C:\Program Files\Ad Hoc\adhoc-station.exe"`} {
		if !strings.Contains(script, want) {
			t.Errorf("the elevated command %q lacks %q", script, want)
		}
	}
}

func TestAllowSaysWhenRefused(t *testing.T) {
	ctx := context.Background()
	f := &fakeNetsh{rules: map[string]bool{}, refuse: true}
	err := Netsh{Run: f.run, Program: `C:\a.exe`}.Allow(ctx, 8443)
	if err == nil || !strings.Contains(err.Error(), "administrator prompt was refused") {
		t.Fatalf("refused prompt: err = %v", err)
	}
}

func TestAllowChecksTheRuleAfterwards(t *testing.T) {
	// The elevated netsh "succeeded" but added nothing (e.g. a policy): say so.
	ctx := context.Background()
	f := &fakeNetsh{rules: map[string]bool{}}
	run := func(ctx context.Context, name string, args ...string) ([]byte, error) {
		if name == "powershell.exe" {
			return nil, nil
		}
		return f.run(ctx, name, args...)
	}
	err := Netsh{Run: run, Program: `C:\a.exe`}.Allow(ctx, 8443)
	if err == nil || !strings.Contains(err.Error(), "still missing") {
		t.Fatalf("rule not added: err = %v", err)
	}
}
