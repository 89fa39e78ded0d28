package support

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"adhocstation/core/wire"
)

// Reasons a session ends, as the user and the station read them.
const (
	reasonTimeUp    = "its 24 hours are over"
	reasonTechEnded = "your technician ended it"
	reasonUserEnded = "you ended it"
	reasonUnknown   = "the station no longer knows this session"
	reasonDamaged   = "this app's session record was damaged"
	// The station and the user read this when the app was stopped while
	// creating the account (power cut, killed).
	reasonInterrupted = "the app was stopped while it created the account, so the technician cannot use it"
)

// session keeps the session until it ends, then cleans up. It keeps the
// expiry itself, so the account goes even when the station is unreachable.
// The live channel (keepChannel) shows the PC online and brings the news
// that the technician ended the session or it expired.
func (a *App) session(ctx context.Context, dir string, c *Client, st State) error {
	a.openActivity(dir, st.SessionID)
	defer a.closeActivity() // a stopped service finds the whole list at its next start
	status := Status{State: TrayUnreachable, Technician: wire.Technician{Name: st.Technician, Email: st.TechEmail},
		ExpiresAt: st.ExpiresAt}
	expiry := a.Clock.After(st.ExpiresAt.Sub(a.Clock.Now()))
	chCtx, stop := context.WithCancel(ctx)
	defer stop()
	link, pins, over := make(chan bool), make(chan struct{}, 1), make(chan string, 1)
	go a.keepChannel(chCtx, c, st, link, pins, over)
	for {
		now := a.Clock.Now()
		if !now.Before(st.ExpiresAt) {
			stop()
			return a.cleanup(ctx, dir, c, st, reasonTimeUp)
		}
		// On each beat the tray's time left is refreshed and a confirmation
		// the station missed is sent again; it is armed before the station
		// is asked, so whoever watches the tray knows the app is waiting.
		beat := a.Clock.After(a.HeartbeatEvery)
		if st.AccountReady && !st.Confirmed {
			if _, err := c.Agent(ctx, PathConfirm, st.AgentKey, ""); err == nil {
				st.Confirmed = true
				_ = a.saveState(dir, st)
			}
		}
		status.TimeLeft = st.ExpiresAt.Sub(now)
		a.UI.ShowStatus(status)
		select {
		case <-ctx.Done():
			// Stopped (service stop, shutdown): the record and the service's
			// next start finish the job.
			return ctx.Err()
		case <-expiry:
		case <-beat:
		case up := <-link:
			status.State = TrayUnreachable
			if up {
				status.State = TrayWaiting
			}
		case <-pins:
			// Kept so that a restarted app accepts the team's stations
			// before its own station has answered again (it may be off).
			st.TeamPins = c.TeamPins()
			a.keep(dir, st)
		case reason := <-over:
			stop()
			return a.cleanup(ctx, dir, c, st, reason)
		case <-a.UI.EndRequested():
			stop()
			a.Log.Printf("the user ended the session")
			if _, err := c.Agent(ctx, PathEnd, st.AgentKey, ""); err != nil {
				a.Log.Printf("could not tell the station: %v", err)
			}
			return a.cleanup(ctx, dir, c, st, reasonUserEnded)
		}
	}
}

// cleanup ends the account (see removeAccount), removes its hiding value,
// uninstalls the app and sends the cleanup receipt saying what was done (c
// may be nil when the station's address is lost). If the account cannot be
// deleted, or its profile not yet, the record (with the SID) and the
// installed copy stay so the next start tries again; if the app cannot
// remove itself, the record stays marked AppLeft for the same reason.
func (a *App) cleanup(ctx context.Context, dir string, c *Client, st State, reason string) error {
	a.Log.Printf("ending the session: %s", reason)
	a.openActivity(dir, st.SessionID)
	a.UI.ShowStatus(Status{State: TrayEnding, Technician: wire.Technician{Name: st.Technician, Email: st.TechEmail},
		ExpiresAt: st.ExpiresAt})
	st.Account = AccountName
	err, profErr := a.removeAccount(ctx, &st)
	var problems []string
	if err != nil {
		problems = append(problems, err.Error())
	}
	if herr := a.Sys.UnhideAccount(AccountName); herr != nil {
		problems = append(problems, "removing the hiding value: "+herr.Error())
	}
	if err != nil {
		text := endedText(reason, false, strings.Join(problems, "; "))
		if c != nil {
			a.receipt(ctx, c, st.AgentKey, "the session ended ("+reason+") but the PC could NOT delete the remote user account yet: "+
				strings.Join(problems, "; ")+"; it is disabled and signed out, Windows' own expiry stays, and the app retries at the next start")
		}
		a.keep(dir, st)
		a.UI.Tell(Message{Title: AppTitle, Text: text, Error: true, Final: true})
		return fmt.Errorf("%w: %v", ErrNotDone, err)
	}
	detail := fmt.Sprintf("session ended (%s): account %s signed out and deleted, its profile deleted, sign-in screen hiding value removed", reason, AccountName)
	if profErr != nil {
		detail = fmt.Sprintf("session ended (%s): account %s signed out and deleted; its profile folder could not be removed yet (%v), the app retries at the next start", reason, AccountName, profErr)
	}
	problemText := ""
	if len(problems) > 0 {
		problemText = "; problems: " + strings.Join(problems, "; ")
	}
	if profErr != nil {
		detail += problemText
		if c != nil {
			a.receipt(ctx, c, st.AgentKey, detail)
		}
		st.ProfileLeft = true
		a.keep(dir, st)
		a.UI.Tell(Message{Title: AppTitle, Text: endedText(reason, true, ""), Final: true})
		return fmt.Errorf("%w: %v", ErrNotDone, profErr)
	}
	// The app is removed before the receipt is sent, so the receipt (the
	// station's audit, the only record that outlives the uninstall) says
	// what happened, not what was about to be tried.
	uerr := a.removeApp(dir, st)
	if uerr != nil {
		detail += fmt.Sprintf("; the app could NOT be removed (%v), it retries at the next start", uerr)
	} else {
		detail += ", app removed"
	}
	detail += problemText
	if c != nil {
		a.receipt(ctx, c, st.AgentKey, detail)
	}
	if uerr != nil {
		a.UI.Tell(Message{Title: AppTitle, Text: endedText(reason, true, "") + " " + fmt.Sprintf(msgAppLeft, uerr), Error: true, Final: true})
		return fmt.Errorf("%w: %v", ErrNotDone, uerr)
	}
	a.UI.Tell(Message{Title: AppTitle, Text: endedText(reason, true, ""), Final: true})
	return nil
}

// msgAppLeft follows the ended text when the app could not remove itself.
const msgAppLeft = "But this app could not remove itself yet (%v); it tries again when the PC restarts."

// finishProfile retries the profile removal that failed at the end of a
// session, then uninstalls.
func (a *App) finishProfile(ctx context.Context, dir string, st State) error {
	if err := a.deleteProfile(ctx, st.AccountSID); err != nil {
		a.Log.Printf("the profile of %s is still there: %v", st.AccountSID, err)
		return fmt.Errorf("%w: %v", ErrNotDone, err)
	}
	a.Log.Printf("the profile of the deleted account is removed")
	if err := a.removeApp(dir, st); err != nil {
		return fmt.Errorf("%w: %v", ErrNotDone, err)
	}
	return nil
}

// finishApp retries the app's removal that failed at the end of a session
// (the account and its profile are gone).
func (a *App) finishApp(dir string, st State) error {
	if err := a.removeApp(dir, st); err != nil {
		return fmt.Errorf("%w: %v", ErrNotDone, err)
	}
	a.Log.Printf("the app is removed")
	return nil
}

// removeApp uninstalls the app once the account and its profile are gone.
// Until that succeeds the record stays, marked AppLeft, so the service
// (still registered when deleting it failed) tries again at its next start.
func (a *App) removeApp(dir string, st State) error {
	st.ProfileLeft, st.AppLeft = false, true
	a.keep(dir, st)
	if err := a.Sys.Uninstall(); err != nil {
		a.Log.Printf("could not uninstall the app: %v", err)
		return err
	}
	a.forget(dir)
	return nil
}

// keep writes the record back so the next start finishes the job; a record
// that would not validate (a damaged one) is not written.
func (a *App) keep(dir string, st State) {
	if st.validate(a.Clock.Now()) != nil {
		return
	}
	if err := a.saveState(dir, st); err != nil {
		a.Log.Printf("could not update the session record: %v", err)
	}
}

// receipt sends the cleanup receipt, retrying briefly while the station is
// unreachable; the account is gone either way.
func (a *App) receipt(ctx context.Context, c *Client, key, detail string) {
	for try := 1; ; try++ {
		err := a.cleanupReceipt(ctx, c, key, detail)
		var off *OfflineError
		if err == nil || !errors.As(err, &off) || try == 3 {
			if err != nil {
				a.Log.Printf("cleanup receipt not delivered: %v", err)
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-a.Clock.After(5 * time.Second):
		}
	}
}

// forget removes the session record.
func (a *App) forget(dir string) {
	if err := removeState(dir); err != nil {
		a.Log.Printf("could not remove the session record: %v", err)
	}
	a.forgetActivity(dir)
}

// uninstall removes the service and the installed copy.
func (a *App) uninstall() {
	if err := a.Sys.Uninstall(); err != nil {
		a.Log.Printf("could not uninstall the app: %v", err)
	}
}
