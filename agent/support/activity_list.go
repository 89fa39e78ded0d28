package support

import (
	"fmt"
	"time"

	"adhocstation/core/wire"
)

// ActivityTitle heads the user's list in the tray.
const ActivityTitle = "What your technician is doing"

// ActivityUpdate is what a tray helper is sent of the list: all of it
// (Full: the first time, or when it missed entries the service no longer
// keeps), or the entries after the last one it has.
type ActivityUpdate struct {
	Full    bool                 `json:"full,omitempty"`
	Earlier int                  `json:"earlier,omitempty"`
	Entries []wire.ActivityEntry `json:"entries"`
}

// ActivityViewer is the part of a tray helper's UI that shows the list.
type ActivityViewer interface {
	ActivityUpdated(u ActivityUpdate)
}

// ActivityList is a tray's copy of the list, kept by the updates it is
// sent; the Windows tray and the tests' tray read it the same way.
type ActivityList struct {
	Earlier int
	Entries []wire.ActivityEntry
}

// Apply takes in an update: entries cleaned (as the service cleaned
// them), in order, none twice, within the list's bound.
func (l *ActivityList) Apply(u ActivityUpdate) {
	if u.Full {
		l.Earlier, l.Entries = max(u.Earlier, 0), nil
	}
	for _, e := range u.Entries {
		if n := len(l.Entries); n > 0 && e.Seq <= l.Entries[n-1].Seq {
			continue
		}
		e.Clean()
		l.Entries = append(l.Entries, e)
	}
	if over := len(l.Entries) - wire.MaxActivityEntries; over > 0 {
		l.Entries = append([]wire.ActivityEntry(nil), l.Entries[over:]...)
		l.Earlier += over
	}
}

// Lines is the list as the user reads it, oldest first, each action with
// its time on the PC's clock in loc: "Mon 14:03:05  Ana Tech ran a
// PowerShell command: ipconfig /all".
func (l *ActivityList) Lines(loc *time.Location) []string {
	var out []string
	switch {
	case l.Earlier == 1:
		out = append(out, "1 earlier action not shown")
	case l.Earlier > 1:
		out = append(out, fmt.Sprintf("%d earlier actions not shown", l.Earlier))
	}
	if len(l.Entries) == 0 {
		return append(out, "Nothing yet: each thing your technician does on this PC is listed here as it happens.")
	}
	for _, e := range l.Entries {
		out = append(out, e.At.In(loc).Format("Mon 15:04:05")+"  "+e.Text)
	}
	return out
}

// Latest is the newest action's line, or "".
func (l *ActivityList) Latest(loc *time.Location) string {
	if len(l.Entries) == 0 {
		return ""
	}
	e := l.Entries[len(l.Entries)-1]
	return e.At.In(loc).Format("15:04") + " " + e.Text
}
