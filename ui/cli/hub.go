package cli

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"time"

	"adhocstation/core"
)

// hubClient reaches the hub for `hub join` (system roots, HTTPS_PROXY);
// tests replace it with one trusting their hub's certificate.
var hubClient = func() *http.Client { return core.HubHTTPClient() }

// joinHub is `hub join https://HUB CODE`: the code is the one-time
// enrolment code the hub's admin printed (adhoc-hub enrol).
func (c *cli) joinHub(args []string) error {
	if len(args) != 2 {
		return usagef("Give the hub's address and the enrolment code, e.g. hub join https://hub.example.org CODE.")
	}
	st, err := c.station()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg, err := st.JoinHub(ctx, hubClient(), args[0], args[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "Joined the hub %s as station %s. New invitations link to %s/st/%s/…; a running station starts its link to the hub now.\n",
		cfg.URL, cfg.StationID, cfg.URL, cfg.StationID)
	return nil
}

// hubStatus is `hub status`: what is configured. Whether the link is up
// is the running station's to know; its Settings page shows it.
func (c *cli) hubStatus(args []string) error {
	st, err := c.bareStation(args, "hub status")
	if err != nil {
		return err
	}
	cfg, ok, err := st.Hub(context.Background())
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(c.out, "No hub: PCs reach this station directly (its pairing address).")
		return nil
	}
	fmt.Fprintf(c.out, "hub: %s\nstation id: %s\njoined: %s\n", cfg.URL, cfg.StationID, cfg.JoinedAt.Local().Format("2006-01-02 15:04"))
	// The team as the running station last learned it from the hub.
	if m, ok, err := st.TeamMembership(context.Background()); err == nil && ok && m.HubStation == cfg.StationID {
		fmt.Fprintf(c.out, "team: %s (last seen: %d seats, %d stations online)\n", m.Team, m.Seats, m.Stations)
	} else {
		fmt.Fprintln(c.out, "team: none known (a running station asks the hub at each start)")
	}
	return nil
}

// hubEndWait is how long `hub leave --end-sessions` waits for online PCs
// to clean up; tests shorten it.
var hubEndWait = core.HubEndWait

// leaveHub is `hub leave [--end-sessions]`. Without the flag it is refused
// while sessions paired through the hub are open or invitations whose link
// leads to it wait (core names them); with it the invitations are
// cancelled, the sessions ended and their PCs given up to 30 s to clean up.
func (c *cli) leaveHub(args []string) error {
	fs := flag.NewFlagSet("hub leave", flag.ContinueOnError)
	endSessions := fs.Bool("end-sessions", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("hub leave takes no arguments besides --end-sessions.")
	}
	st, err := c.station()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if !*endSessions {
		if err := st.LeaveHub(ctx); err != nil {
			return err
		}
		fmt.Fprintln(c.out, "Left the hub: new invitations reach this station directly.")
		return nil
	}
	if waiting, err := st.HubInvitations(ctx); err == nil && len(waiting) > 0 {
		fmt.Fprintf(c.out, "Cancelling %d invitation(s) whose link leads to the hub: %s.\n", len(waiting), core.InvitationList(waiting))
	}
	if open, err := st.HubSessions(ctx); err == nil && len(open) > 0 {
		fmt.Fprintf(c.out, "Ending %d session(s) paired through the hub: %s. Waiting up to %v for their PCs to clean up…\n",
			len(open), core.PCList(open), hubEndWait.Round(time.Second))
	}
	end, err := st.LeaveHubEndingSessions(ctx, hubEndWait)
	if len(end.Cancelled) > 0 {
		fmt.Fprintf(c.out, "Cancelled the invitations %s: send new ones once the hub is left, which will reach this station directly.\n",
			core.InvitationList(end.Cancelled))
	}
	if len(end.Told) > 0 {
		fmt.Fprintf(c.out, "Cleaned up (support account and app removed): %s.\n", core.PCList(end.Told))
	}
	if len(end.NotTold) > 0 {
		fmt.Fprintf(c.out, "Not confirmed (offline, or no answer in time): %s. Their sessions are ended; "+
			"each of these PCs removes the support account by itself when its 24 hours are over.\n", core.PCList(end.NotTold))
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(c.out, "Left the hub: new invitations reach this station directly.")
	return nil
}
