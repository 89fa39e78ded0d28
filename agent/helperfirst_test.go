package main

import (
	"testing"

	"adhocstation/agent/support"
)

// steps is a System that records the order of the calls this test makes.
type steps struct {
	support.System
	done *[]string
}

func (s steps) Uninstall() error { *s.done = append(*s.done, "uninstall"); return nil }

// The screen helper stops before the app is uninstalled, not after (it
// runs the installed program).
func TestScreenHelperStopsBeforeUninstall(t *testing.T) {
	var done []string
	sys := helperFirst{System: steps{done: &done}, stopHelper: func() { done = append(done, "stop screen helper") }}
	var s support.System = sys
	if err := s.Uninstall(); err != nil {
		t.Fatal(err)
	}
	if len(done) != 2 || done[0] != "stop screen helper" || done[1] != "uninstall" {
		t.Errorf("steps %q, want the screen helper stopped, then the uninstall", done)
	}
}
