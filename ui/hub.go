package ui

import (
	"context"
	"net/url"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/pairing"
)

// showHub adds the read-only "Reach PCs through a hub" group to Settings:
// whether the station has joined a relay hub (docs/HUB.md), whether its
// link is up, as which station, the last error, and the host invitation
// links name. state is the running pairing service's (nil: none runs, so
// only the saved configuration is shown). Joining and leaving are the
// command line's (adhoc-station hub join/leave); the page follows them.
func (s *settingsScreen) showHub(state func() pairing.HubState) *widget.Label {
	s.hubState = state
	s.hubLabel = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.form.Objects = append(s.form.Objects,
		titleLabel("Reach PCs through a hub"),
		&widget.Label{Text: "A relay hub on port 443 lets PCs anywhere reach this station; both dial out to it. " +
			"Join one with adhoc-station hub join https://HUB CODE (docs/HUB.md).", Wrapping: fyne.TextWrapWord},
		widget.NewLabel("Hub"), container.NewVBox(s.hubLabel))
	s.form.Refresh()
	s.loadHub()
	return s.hubLabel
}

// loadHub reads the saved hub configuration (at start and on a settings
// event: join and leave publish one) and shows it.
func (s *settingsScreen) loadHub() {
	if s.hubLabel == nil {
		return
	}
	s.hub.cfg, s.hub.joined, s.hub.err = s.st.Hub(context.Background())
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
	text, imp := hubText(s.hub.cfg, s.hub.joined, s.hub.err, st, s.hubState != nil)
	setLabel(s.hubLabel, text, imp)
}

// hubText says where PCs reach the station and what to do when the hub
// link is down.
func hubText(cfg core.HubConfig, joined bool, err error, st pairing.HubState, running bool) (string, widget.Importance) {
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
	case st.Connected && st.URL == cfg.URL:
		return head + "\nConnected.", widget.SuccessImportance
	case st.LastError != "" && st.URL == cfg.URL:
		return head + "\nNot connected: " + st.LastError + "\nThe station keeps trying. Check this computer's internet " +
			"connection (and HTTPS_PROXY), or ask the hub's administrator whether the hub runs.", widget.WarningImportance
	}
	return head + "\nConnecting…", widget.MediumImportance
}
