package agenttest

import (
	"testing"
	"time"

	"adhocstation/agent/support"
	"adhocstation/core/coretest"
)

// The tray's activity list ("What your technician is doing"): the test's
// tray keeps it from the updates the service sends, as the Windows tray
// does (support.ActivityList), and a test waits for what it must show.

// ActivityUpdated takes in an update of the list.
func (v *Tray) ActivityUpdated(u support.ActivityUpdate) {
	v.mu.Lock()
	v.activity.Apply(u)
	v.mu.Unlock()
	v.activityNew()
}

func (v *Tray) activityNew() {
	v.mu.Lock()
	if v.activityCh == nil {
		v.activityCh = make(chan struct{}, 1)
	}
	ch := v.activityCh
	v.mu.Unlock()
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Activity is a copy of the tray's list.
func (v *Tray) Activity() support.ActivityList {
	v.mu.Lock()
	defer v.mu.Unlock()
	l := v.activity
	l.Entries = append(l.Entries[:0:0], l.Entries...)
	return l
}

// WaitActivity waits until the tray's list satisfies ok, failing the test
// after coretest.WaitLimit with the list it has; it returns the list.
func (v *Tray) WaitActivity(t testing.TB, what string, ok func(support.ActivityList) bool) support.ActivityList {
	t.Helper()
	v.mu.Lock()
	if v.activityCh == nil {
		v.activityCh = make(chan struct{}, 1)
	}
	ch := v.activityCh
	v.mu.Unlock()
	deadline := time.After(coretest.WaitLimit)
	for {
		l := v.Activity()
		if ok(l) {
			return l
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("waited %v for the tray's activity list to show %s; it shows %q", coretest.WaitLimit, what, l.Lines(time.UTC))
		}
	}
}

var _ support.ActivityViewer = (*Tray)(nil)
