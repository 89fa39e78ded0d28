package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"

	"adhocstation/core"
)

// notifier raises desktop notifications for what a technician working in
// another window must not miss: a PC paired, a session about to end, a
// session ended by time. They carry no code and no password.
type notifier struct {
	a   fyne.App
	st  *core.Station
	loc *time.Location
}

func newNotifier(a fyne.App, st *core.Station) *notifier {
	return &notifier{a: a, st: st, loc: time.Local}
}

func (n *notifier) onEvent(e core.Event) {
	switch e.Kind {
	case core.EventPaired, core.EventExpiringSoon, core.EventExpired:
	default:
		return
	}
	sess, err := n.st.Session(context.Background(), e.SessionID)
	if err != nil {
		return // the session is gone; there is nothing useful to say
	}
	if msg := n.message(e.Kind, sess); msg != nil {
		n.a.SendNotification(msg)
	}
}

func (n *notifier) message(kind core.EventKind, sess core.Session) *fyne.Notification {
	pc := "The PC"
	if c := sess.Computer; c != nil {
		pc = c.Hostname + " (user " + c.WindowsUser + ")"
	}
	until := sess.ExpiresAt.In(n.loc).Format("Mon 15:04")
	switch kind {
	case core.EventPaired:
		return fyne.NewNotification("PC paired", pc+" is paired for "+sess.UserEmail+
			". You can connect to it until "+until+".")
	case core.EventExpiringSoon:
		return fyne.NewNotification("Session ends in 15 minutes", pc+" for "+sess.UserEmail+
			": the session ends at "+until+". Finish your work or prepare a new session.")
	case core.EventExpired:
		return fyne.NewNotification("Session expired", pc+" for "+sess.UserEmail+
			": the 24 hours are over. The PC removes the hidden account and the app.")
	}
	return nil
}
