package winsys

import (
	"sort"
	"strings"

	"fyne.io/systray"

	"adhocstation/agent/support"
)

// trayViews is the tray's part in the remote screen: while a technician
// views the screen the menu has "Stop screen viewing", which ends every
// view (the screen helper's banner has its own Stop).
type trayViews struct {
	item    *systray.MenuItem
	viewers map[string]int
	stop    chan struct{} // closed at the user's next Stop, then replaced
}

var _ support.Viewer = (*Tray)(nil)

// addViewItem adds the menu item, hidden until someone views (onReady).
func (t *Tray) addViewItem() {
	item := systray.AddMenuItem("Stop screen viewing", "Ends the technician's view of this screen now")
	item.Hide()
	t.mu.Lock()
	t.views.item = item
	t.mu.Unlock()
	t.applyViews()
	go func() {
		for range item.ClickedCh {
			t.mu.Lock()
			if t.views.stop == nil {
				t.views.stop = make(chan struct{})
			}
			close(t.views.stop)
			t.views.stop = make(chan struct{})
			t.mu.Unlock()
		}
	}()
}

// Viewing shows or hides "Stop screen viewing" with who is viewing.
func (t *Tray) Viewing(who string, on bool) {
	t.mu.Lock()
	if t.views.viewers == nil {
		t.views.viewers = map[string]int{}
	}
	if on {
		t.views.viewers[who]++
	} else if t.views.viewers[who]--; t.views.viewers[who] <= 0 {
		delete(t.views.viewers, who)
	}
	t.mu.Unlock()
	t.applyViews()
}

// StopViewingRequested is closed when the user chooses Stop screen viewing.
func (t *Tray) StopViewingRequested() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.views.stop == nil {
		t.views.stop = make(chan struct{})
	}
	return t.views.stop
}

func (t *Tray) applyViews() {
	t.mu.Lock()
	item := t.views.item
	names := make([]string, 0, len(t.views.viewers))
	for n := range t.views.viewers {
		names = append(names, n)
	}
	t.mu.Unlock()
	if item == nil {
		return // onReady shows the state once the menu exists
	}
	if len(names) == 0 {
		item.Hide()
		return
	}
	sort.Strings(names)
	item.SetTitle("Stop screen viewing (" + strings.Join(names, ", ") + " viewing)")
	item.Show()
}
