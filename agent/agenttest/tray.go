package agenttest

import (
	"context"
	"fmt"
	"sync"

	"adhocstation/agent/support"
)

// Tray is the user's tray helper for a test (pipe.RunHelper's UI): it
// passes what it is shown on to UI, and adds what the tray has for the
// remote screen, the "… is viewing your screen" notes and Stop viewing.
type Tray struct {
	// UI receives the rest (the agent's tests give their recorder); when
	// nil, messages and status go nowhere and nothing is asked.
	UI support.UI
	// Views receives "<who> viewing: <true|false>" for each note, in
	// order; a note that finds it full is dropped, as a tray never stops
	// the pipe for its menu.
	Views chan string

	mu   sync.Mutex
	stop chan struct{}
	// activity is the list the tray shows (activity.go).
	activity   support.ActivityList
	activityCh chan struct{}
}

// NewTray returns a tray passing the rest to ui (which may be nil).
func NewTray(ui support.UI) *Tray {
	return &Tray{UI: ui, Views: make(chan string, 64), stop: make(chan struct{})}
}

// Consent passes the question to UI; a tray without one declines.
func (v *Tray) Consent(ctx context.Context, c support.Consent) (bool, error) {
	if v.UI == nil {
		return false, support.ErrCancelled
	}
	return v.UI.Consent(ctx, c)
}

// AskCode passes the question to UI; a tray without one gives up.
func (v *Tray) AskCode(ctx context.Context, r support.CodeRequest) (string, error) {
	if v.UI == nil {
		return "", support.ErrCancelled
	}
	return v.UI.AskCode(ctx, r)
}

// Tell passes m to UI.
func (v *Tray) Tell(m support.Message) {
	if v.UI != nil {
		v.UI.Tell(m)
	}
}

// ShowStatus passes s to UI.
func (v *Tray) ShowStatus(s support.Status) {
	if v.UI != nil {
		v.UI.ShowStatus(s)
	}
}

// EndRequested is UI's, or never.
func (v *Tray) EndRequested() <-chan struct{} {
	if v.UI == nil {
		return nil
	}
	return v.UI.EndRequested()
}

// Viewing notes who started or stopped viewing the screen.
func (v *Tray) Viewing(who string, on bool) {
	select {
	case v.Views <- fmt.Sprintf("%s viewing: %v", who, on):
	default:
	}
}

// StopViewingRequested is closed by StopViewing.
func (v *Tray) StopViewingRequested() <-chan struct{} {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.stop
}

// StopViewing is the user choosing Stop viewing in the tray.
func (v *Tray) StopViewing() {
	v.mu.Lock()
	defer v.mu.Unlock()
	close(v.stop)
	v.stop = make(chan struct{})
}

var _ support.Viewer = (*Tray)(nil)
