package ui

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/pairing"
	"adhocstation/core/remote"
)

// Connecting to a PC paired at another station of the team (docs/TEAM.md):
// Connect on a line of "At other stations of the team" asks for the
// session's password in the Connect dialog, with a note that the hub hands
// the PC to this station; the station then takes the PC over (the hub
// routes its relays here and its station lets it go), signs in, and opens
// the usual remote window. Its End session now sends the team's end request;
// closing it gives the PC back to its station.

// takeoverWait bounds waiting for the PC to come to this station: its app
// redials within 30 s, and its station needs a moment to let it go.
const takeoverWait = 60 * time.Second

// jobTeamConnect is the job name of a Connect to another station's PC.
const jobTeamConnect = "team connect"

// teamTaker is the Connect of the team group's lines.
type teamTaker struct {
	// takeOver brings the PC's channel here (pairing.Server.TakeOver);
	// nil: Connect is not offered.
	takeOver func(ctx context.Context, owner string, session int64) (remote.StreamOpener, func(), error)
	// connect signs in on it (core.Station.ConnectTeam).
	connect func(ctx context.Context, t core.TeamTarget, open remote.StreamOpener, password string) (*remote.RemoteSession, error)
	// open shows the remote window; end is its End session now, closed is
	// called once it closed.
	open func(rs *remote.RemoteSession, end func() error, closed func()) *remoteWindow
	work *background
	// held are the PCs brought here and not yet given back: while the
	// dialog waits for another try, and while a window is open.
	held map[core.TeamTarget]*heldPC
}

type heldPC struct {
	open    remote.StreamOpener
	release func()
	window  *remoteWindow // nil until a remote window shows it
}

// lineActions are a line's buttons: Connect (when the line's PC may be
// reached: online, or its station offline, so it may be redialling the
// hub) and end, End session now.
func (g *teamGroup) lineActions(s pairing.TeamSession, end fyne.CanvasObject) fyne.CanvasObject {
	k := g.taker
	if k == nil || k.takeOver == nil {
		return end
	}
	b := &widget.Button{Text: "Connect", Icon: theme.ComputerIcon(), Importance: widget.HighImportance, OnTapped: func() { g.onConnect(s) }}
	if !s.PCOnline && s.StationOnline {
		b.Disable() // its station is up and the PC is not with it: nothing to take over
	}
	if end == nil {
		return b
	}
	return container.NewHBox(b, end)
}

// teamTarget is the core's view of a line; ok false for a session id
// that is not a number (another version's key).
func teamTarget(s pairing.TeamSession) (core.TeamTarget, bool) {
	id, err := strconv.ParseInt(s.Session, 10, 64)
	if err != nil {
		return core.TeamTarget{}, false
	}
	return core.TeamTarget{Owner: s.Station, OwnerName: s.StationName, Session: id, Computer: s.Computer, PreparedBy: s.PreparedBy}, true
}

// onConnect asks for the password and connects, as the station's own
// Connect does, after bringing the PC here.
func (g *teamGroup) onConnect(s pairing.TeamSession) {
	k := g.taker
	t, ok := teamTarget(s)
	if !ok {
		g.showStatus(widget.DangerImportance, "This session's line comes from a station of another version; connect to it from its own station.")
		return
	}
	if h := k.held[t]; h != nil && h.window != nil {
		h.window.win.RequestFocus()
		g.showStatus(widget.MediumImportance, "This station is already connected to that PC: its remote window is open.")
		return
	}
	by := s.PreparedBy
	if by == "" {
		by = "someone"
	}
	station := stationLabel(s)
	note := fmt.Sprintf("Station %s's PC (session prepared by %s): the hub hands it to this station; this can take up to 30 s.", station, by)
	if !s.StationOnline {
		note += " Station " + station + " is offline: the PC may be off too, or still retrying."
	}
	title := "Connect to the PC of station " + station
	if s.Computer != "" {
		title = "Connect to " + s.Computer + " at station " + station
	}
	open := true // the dialog: a refused try after Cancel gives the PC back
	passwordDialog(g.win, title, note, "Waiting for the PC to come to this station…",
		func(password string, answered func(error)) { g.connectTeam(t, s, password, &open, answered) },
		func(err error) { g.showStatus(widget.DangerImportance, errorText(err)) },
		func() { open = false; g.giveBackUnshown(t) })
}

// connectTeam takes the PC over (once; a wrong password keeps it here for
// the next try) and signs in; answered gets the refusal, nil once the
// remote window is open.
func (g *teamGroup) connectTeam(t core.TeamTarget, s pairing.TeamSession, password string, dialogOpen *bool, answered func(error)) {
	k := g.taker
	h := k.held[t]
	k.work.run(jobTeamConnect, func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), takeoverWait)
		defer cancel()
		fresh := (*heldPC)(nil)
		if h == nil {
			open, release, err := k.takeOver(ctx, t.Owner, t.Session)
			if err != nil {
				return func() { answered(err) }
			}
			fresh = &heldPC{open: open, release: release}
			h = fresh
		}
		rs, err := k.connect(ctx, t, h.open, password)
		return func() {
			if fresh != nil {
				if k.held == nil {
					k.held = map[core.TeamTarget]*heldPC{}
				}
				if old := k.held[t]; old != nil && old != fresh { // cannot happen: one dialog per line at a time
					go old.release()
				}
				k.held[t] = fresh
			}
			if err != nil {
				answered(err)
				if !*dialogOpen {
					g.giveBackUnshown(t)
				}
				return
			}
			// The window first: the dialog's close gives back a PC no window shows.
			h.window = k.open(rs, func() error { return g.endFromWindow(s) }, func() {
				delete(k.held, t)
				go h.release() // the hub is told: not on the Fyne goroutine
			})
			g.clearStatus()
			answered(nil)
		}
	})
}

// giveBackUnshown gives back a PC brought here for a dialog that closed
// without opening a window (cancelled, or given up after a refusal).
func (g *teamGroup) giveBackUnshown(t core.TeamTarget) {
	k := g.taker
	if h := k.held[t]; h != nil && h.window == nil {
		delete(k.held, t)
		go h.release()
	}
}

// endFromWindow is the remote window's End session now: the team's end
// request to the owning station, as the line's own button sends it.
func (g *teamGroup) endFromWindow(s pairing.TeamSession) error {
	if g.requestEnd == nil {
		return core.Errorf("team_end_unavailable", "This station cannot ask station %s to end the session. End it there.", stationLabel(s))
	}
	tech := ""
	if g.technician != nil {
		tech = g.technician()
	}
	online, err := g.requestEnd(context.Background(), s.Station, s.Session, s.PreparedBy, tech)
	if err != nil {
		return err
	}
	if online {
		g.showStatus(widget.MediumImportance, "Station "+stationLabel(s)+" was asked to end the session; it leaves this list once ended there.")
	} else {
		g.showStatus(widget.WarningImportance, "Station "+stationLabel(s)+" is offline; the session will end when it next connects, or at its 24-hour end.")
	}
	return nil
}

func (g *teamGroup) showStatus(imp widget.Importance, text string) {
	g.status.Importance = imp
	g.status.SetText(text)
	g.status.Show()
}

func (g *teamGroup) clearStatus() {
	if g.status.Visible() {
		g.status.Hide()
	}
}

// openTeamRemote is the remote window of a PC of another station: the
// station's own window (computers.go's openRemote) without what belongs to
// a session of this station (its Files folder, its local end).
func (s *computersScreen) openTeamRemote(rs *remote.RemoteSession, end func() error, closed func()) *remoteWindow {
	r := newRemoteWindow(fyne.CurrentApp(), rs, &s.work)
	r.now = s.now
	r.end = end
	r.win.SetOnClosed(func() {
		r.screen.close()
		r.command.close()
		rs.Close() // the PC's tray says the technician left
		closed()
	})
	r.win.Show()
	r.onRefresh()
	return r
}

// offerTeamConnect gives the team group's lines Connect (takeOver nil:
// not offered).
func (s *computersScreen) offerTeamConnect(takeOver func(ctx context.Context, owner string, session int64) (remote.StreamOpener, func(), error)) {
	if takeOver == nil {
		s.team.taker = nil
		return
	}
	s.team.taker = &teamTaker{takeOver: takeOver, connect: s.st.ConnectTeam, open: s.openTeamRemote, work: &s.work}
}

// noteText says under the lines what can be done from here with them.
func (g *teamGroup) noteText() string {
	if g.taker == nil || g.taker.takeOver == nil {
		return teamNote(g.requestEnd != nil)
	}
	if g.requestEnd == nil {
		return "These sessions are run from their own station; from here their PC can be connected to (the hub hands it to this station for the time of the connection)."
	}
	return "These sessions are run from their own station; from here their PC can be connected to (the hub hands it to this station for the time of the connection), or the session ended."
}
