package ui

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/pairing"
)

// showHub adds the "Reach PCs through a hub" group to Settings: whether
// the station has joined a relay hub (docs/HUB.md), whether its link is
// up, as which station, the last error, and the host invitation links
// name; and joining one with its address and one-time code, or leaving it
// (as adhoc-station hub join/leave, which the page follows too). state is
// the running pairing service's (nil: none runs, so only the saved
// configuration is shown).
func (s *settingsScreen) showHub(state func() pairing.HubState) *widget.Label {
	s.hubState = state
	s.hubLabel = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.hubURL = widget.NewEntry()
	s.hubURL.SetPlaceHolder("https://hub.example.org")
	s.hubCode = widget.NewPasswordEntry()
	s.hubCode.SetPlaceHolder("one-time code from adhoc-hub enrol")
	s.hubJoin = widget.NewButton("Join hub", s.onJoinHub)
	s.hubLeave = widget.NewButton("Leave hub", s.onLeaveHub)
	s.hubOut = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.hubOut.Hide()
	s.form.Objects = append(s.form.Objects,
		titleLabel("Reach PCs through a hub"),
		&widget.Label{Text: "A relay hub on port 443 lets PCs anywhere reach this station; both dial out to it. " +
			"Its administrator gives you its address and a one-time code (docs/HUB.md).", Wrapping: fyne.TextWrapWord},
		widget.NewLabel("Hub"), container.NewVBox(s.hubLabel, s.hubLeave),
		widget.NewLabel("Hub address"), s.hubURL,
		widget.NewLabel("Enrolment code"), container.NewVBox(s.hubCode, s.hubJoin, s.hubOut))
	s.form.Refresh()
	s.loadHub()
	return s.hubLabel
}

// onJoinHub redeems the code on the hub in the background (the hub may be
// slow or unreachable); the running pairing service starts its link on
// the settings event the join publishes.
func (s *settingsScreen) onJoinHub() {
	hubURL, code := s.hubURL.Text, s.hubCode.Text
	s.hubJoin.Disable()
	s.hubOut.Importance = widget.MediumImportance
	s.hubOut.SetText("Joining " + hubURL + "…")
	s.hubOut.Show()
	client := s.hubClient
	s.work.run(jobJoinHub, func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cfg, err := s.st.JoinHub(ctx, client, hubURL, code)
		return func() {
			s.hubJoin.Enable()
			if err != nil {
				s.hubOut.Importance = widget.DangerImportance
				s.hubOut.SetText(errorText(err))
				return
			}
			s.hubCode.SetText("") // a used code is worth nothing, but it is not shown twice either
			s.hubOut.Importance = widget.MediumImportance
			s.hubOut.SetText("Joined as station " + cfg.StationID + ". New invitations link to the hub.")
			s.loadHub()
		}
	})
}

// onLeaveHub forgets the hub after a confirmation. While sessions paired
// through the hub are open, or invitations whose link leads to it wait,
// the question names them and offers to end and cancel them first (as hub
// leave --end-sessions): leaving alone would strand their PCs, whose app
// reaches this station only through the hub, and their users, whose link
// would reach a hub that says the station is offline.
func (s *settingsScreen) onLeaveHub() {
	open, err := s.st.HubSessions(context.Background())
	if err != nil {
		s.showHubOut(errorText(err), widget.DangerImportance)
		return
	}
	waiting, err := s.st.HubInvitations(context.Background())
	if err != nil {
		s.showHubOut(errorText(err), widget.DangerImportance)
		return
	}
	if len(open) == 0 && len(waiting) == 0 {
		dialog.ShowConfirm("Leave the hub?", "New invitations will reach this station directly.",
			func(ok bool) {
				if !ok {
					return
				}
				if err := s.st.LeaveHub(context.Background()); err != nil {
					s.showHubOut(errorText(err), widget.DangerImportance)
					return
				}
				s.showHubOut("Left the hub: PCs reach this station directly.", widget.MediumImportance)
				s.loadHub()
			}, s.win)
		return
	}
	title, action, busy := "End the sessions and leave the hub?", "End them and leave", "Ending the sessions and waiting for their PCs to clean up…"
	var parts []string
	if len(open) > 0 {
		parts = append(parts, fmt.Sprintf("%d open session(s) came through the hub %s: %s. Leaving the hub alone would leave these PCs "+
			"unable to reach this station until their 24 hours are over.", len(open), core.HubHost(open[0].ViaHub), core.PCList(open)))
	}
	if len(waiting) > 0 {
		parts = append(parts, fmt.Sprintf("%d invitation(s) sent through the hub %s still wait: %s. Their links lead to the hub, "+
			"which cannot reach this station once it has left: the user would be told the technician's station is offline.",
			len(waiting), core.HubHost(waiting[0].InviteHub), core.InvitationList(waiting)))
	}
	var then string
	switch {
	case len(open) == 0:
		title, action, busy = "Cancel the invitations and leave the hub?", "Cancel them and leave", "Cancelling the invitations…"
		then = "Cancel them and leave: the invitations are cancelled and the station leaves the hub. " +
			"Then send new invitations, which will reach this station directly."
	case len(waiting) == 0:
		then = fmt.Sprintf("End them and leave: each PC online is told through the hub, "+
			"removes the support account and the app, and then the station leaves the hub (up to %v).", core.HubEndWait.Round(time.Second))
	default:
		then = fmt.Sprintf("End them and leave: the invitations are cancelled (send new ones afterwards, which will reach "+
			"this station directly); each PC online is told through the hub, removes the support account and the app, and then the "+
			"station leaves the hub (up to %v).", core.HubEndWait.Round(time.Second))
	}
	askFirst(s.win, title, strings.Join(parts, " ")+"\n\n"+then, action, func() {
		s.hubLeave.Disable()
		s.showHubOut(busy, widget.MediumImportance)
		s.work.run(jobLeaveHub, func() func() {
			end, err := s.st.LeaveHubEndingSessions(context.Background(), s.hubEndWait())
			return func() {
				s.hubLeave.Enable()
				text, imp := leaveHubText(end, err)
				s.showHubOut(text, imp)
				s.loadHub()
			}
		})
	})
}

// hubEndWait is how long leaving waits for PCs to clean up (tests shorten it).
func (s *settingsScreen) hubEndWait() time.Duration {
	if s.hubLeaveWait > 0 {
		return s.hubLeaveWait
	}
	return core.HubEndWait
}

// leaveHubText says what leaving with the sessions ended did.
func leaveHubText(end core.HubEnding, err error) (string, widget.Importance) {
	var parts []string
	if len(end.Cancelled) > 0 {
		parts = append(parts, "Cancelled the invitations "+core.InvitationList(end.Cancelled)+
			": send new ones, which will reach this station directly.")
	}
	if len(end.Told) > 0 {
		parts = append(parts, "Cleaned up: "+core.PCList(end.Told)+".")
	}
	if len(end.NotTold) > 0 {
		parts = append(parts, "Not confirmed (offline, or no answer in time): "+core.PCList(end.NotTold)+
			"; their sessions are ended and each of these PCs removes the support account by itself when its 24 hours are over.")
	}
	if err != nil {
		return strings.Join(append(parts, errorText(err)), " "), widget.DangerImportance
	}
	return strings.Join(append([]string{"Left the hub: PCs reach this station directly."}, parts...), " "), widget.MediumImportance
}

func (s *settingsScreen) showHubOut(text string, imp widget.Importance) {
	s.hubOut.Importance = imp
	s.hubOut.SetText(text)
	s.hubOut.Show()
}

// loadHub reads the saved hub configuration (at start and on a settings
// event: join and leave publish one) and shows it.
func (s *settingsScreen) loadHub() {
	if s.hubLabel == nil {
		return
	}
	s.hub.cfg, s.hub.joined, s.hub.err = s.st.Hub(context.Background())
	// Leave is there only while joined: a disabled button between the
	// status and the join fields read as something broken.
	if s.hub.joined {
		s.hubLeave.Enable()
		s.hubLeave.Show()
	} else {
		s.hubLeave.Disable()
		s.hubLeave.Hide()
	}
	s.refreshHub()
}

// refreshHub shows the link's state now; on the window's tick it reads
// only memory.
func (s *settingsScreen) refreshHub() {
	if s.hubLabel == nil {
		return
	}
	var st pairing.HubState
	if s.hubState != nil {
		st = s.hubState()
	}
	text, imp := hubText(s.hub.cfg, s.hub.joined, s.hub.err, st, s.hubState != nil, s.st.Now())
	if s.teamState != nil && s.hub.joined {
		ts := s.teamState()
		if line := teamText(ts); line != "" {
			text += "\n" + line
			if (ts.Revoked || !ts.Connected) && imp == widget.SuccessImportance {
				imp = widget.WarningImportance
			}
		}
	}
	setLabel(s.hubLabel, text, imp)
}

// hubText says where PCs reach the station and what to do when the hub
// link is down.
func hubText(cfg core.HubConfig, joined bool, err error, st pairing.HubState, running bool, now time.Time) (string, widget.Importance) {
	switch {
	case err != nil:
		return errorText(err), widget.DangerImportance
	case !joined:
		return "Not joined: PCs reach this station directly at its pairing address (the Pairing group above).", widget.MediumImportance
	}
	host := cfg.URL
	if u, err := url.Parse(cfg.URL); err == nil {
		host = u.Host
	}
	head := "Enrolled at " + host + " as station " + cfg.StationID + ". Invitation links go to " + host + "."
	switch {
	case !running:
		return head + "\nThe pairing service is not running, so PCs cannot reach this station through the hub.", widget.DangerImportance
	case st.Connected && st.URL == cfg.URL && now.Before(st.PlainOffUntil):
		return head + "\nConnected. Until " + st.PlainOffUntil.Local().Format("15:04") + " PCs' data comes through the hub's " +
			"encrypted web connection, which is slower: a plain connection to the hub was refused on the way (a firewall that " +
			"lets only HTTPS out on port 443 does that). Everything still works; nothing needs to be done.", widget.SuccessImportance
	case st.Connected && st.URL == cfg.URL:
		return head + "\nConnected.", widget.SuccessImportance
	case st.LastError != "" && st.URL == cfg.URL:
		return head + "\nNot connected: " + st.LastError + "\nThe station keeps trying. Check this computer's internet " +
			"connection (and HTTPS_PROXY), or ask the hub's administrator whether the hub runs.", widget.WarningImportance
	}
	return head + "\nConnecting…", widget.MediumImportance
}
