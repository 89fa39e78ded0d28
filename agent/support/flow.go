package support

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"adhocstation/agent/applog"
	"adhocstation/agent/screen"
	"adhocstation/core/wire"
)

// App runs the Support Session app's flow.
type App struct {
	Sys   System
	UI    UI
	Clock Clock
	// Code is a security code given on the command line (--code); it is
	// tried first, then the user is asked.
	Code string
	// HeartbeatEvery is how often the tray's time left is refreshed and a
	// confirmation the station missed is sent again (30 s); online and
	// offline follow the live channel.
	HeartbeatEvery time.Duration
	// Channel tunes the live channel (keepalive, reconnect backoff).
	Channel ChannelTiming
	// Log receives progress lines; never a password, code or agent key.
	Log *applog.Logger
	// Screens serves screen streams (on Windows: relayed to the screen
	// helper in the console session). When nil, OpenDesktop opens a
	// Desktop in this process for each stream; when both are nil the PC
	// refuses screen streams.
	Screens     screen.Host
	OpenDesktop func() (screen.Desktop, error)
	// WriteFile creates a file in the state folder (os.WriteFile with 0600
	// when nil).
	WriteFile func(name string, data []byte) error

	// HubClient dials the relay hub when the app's details name one (nil:
	// a client using HubProxy); tests give one trusting their hub.
	HubClient *http.Client
	// HubProxy chooses the proxy for the hub (nil:
	// hublink.ProxyFromEnvironment); the Windows service gives the PC's
	// settings (agent/netproxy).
	HubProxy func(*http.Request) (*url.URL, error)

	// remotes maps the key of each open remote session to its *signedIn
	// (remote.go); a key lives only while its sign-in stream is open.
	remotes sync.Map
	// activity is the user's list of the technician's actions (activity.go).
	activity activityLog
}

// Outcome errors of Run (main turns them into exit codes).
var (
	ErrRefused = errors.New("the session could not be started")
	ErrNotDone = errors.New("the account could not be removed yet")
)

func (a *App) fail(text string) error {
	a.UI.Tell(Message{Title: AppTitle, Text: text, Error: true, Final: true})
	return fmt.Errorf("%w: %s", ErrRefused, text)
}

// Run starts a new session from the pairing details in the program file, or
// resumes the one a state file records, and returns when the account and
// the app are removed (nil), when the user declined (ErrCancelled), or on a
// refusal (ErrRefused).
func (a *App) Run(ctx context.Context) error {
	if a.Clock == nil {
		a.Clock = RealClock{}
	}
	if a.HeartbeatEvery <= 0 {
		a.HeartbeatEvery = 30 * time.Second
	}
	dir, err := a.stateDir()
	if err != nil {
		return a.fail(fmt.Sprintf("This app cannot keep its session record (%v). Nothing was changed. Run it again as an administrator.", err))
	}
	if st, ok, err := loadState(dir); err == nil && ok {
		err = st.validate(a.Clock.Now())
		if err == nil {
			a.Log.Printf("resuming the session recorded in %s", dir)
			return a.resume(ctx, dir, st)
		}
		a.Log.Printf("the session record is not valid: %v", err)
		return a.cleanup(ctx, dir, nil, State{}, reasonDamaged)
	} else if err != nil {
		// Without the record the station cannot be told, but the account,
		// whose name is fixed, must still go.
		a.Log.Printf("the session record is unreadable: %v", err)
		return a.cleanup(ctx, dir, nil, State{}, reasonDamaged)
	}
	exe, err := a.Sys.Executable()
	if err != nil {
		return a.fail(fmt.Sprintf("This app cannot find its own file (%v). Download it again from the invitation.", err))
	}
	tail, err := a.Sys.ReadTail(exe, wire.TrailerReadSize)
	if err != nil {
		return a.fail(fmt.Sprintf("This app cannot read its own file (%v). Download it again from the invitation.", err))
	}
	d, err := wire.ReadDetails(tail)
	if err != nil {
		return a.fail(wire.ErrNoDetails.Error())
	}
	facts, err := a.Sys.Facts()
	if err != nil {
		return a.fail(fmt.Sprintf(msgNoFacts, err))
	}
	a.Log.Printf("this PC: %s, %s %s (%s), user %s", facts.Hostname, facts.OSName, facts.OSVersion, facts.Arch, facts.WindowsUser)
	client, err := a.newClient(d.StationURL, d.Pins, d.Hub, d.RelayToken)
	if err != nil {
		return a.fail(err.Error())
	}
	agreed, err := a.UI.Consent(ctx, Consent{Technician: d.Technician, Text: consentText(d.Technician, 24*time.Hour)})
	if err != nil || !agreed {
		a.UI.Tell(Message{Title: AppTitle, Text: msgDeclined, Final: true})
		return ErrCancelled
	}
	resp, err := a.pair(ctx, client, d, facts)
	if err != nil {
		return err
	}
	return a.start(ctx, dir, exe, client, resp)
}

// pair asks for the code until the station accepts it or a refusal makes
// another try pointless.
func (a *App) pair(ctx context.Context, c *Client, d wire.Details, facts wire.Facts) (wire.PairResponse, error) {
	code, problem := a.Code, ""
	for {
		if code == "" {
			var err error
			code, err = a.UI.AskCode(ctx, CodeRequest{Technician: d.Technician, Problem: problem})
			if errors.Is(err, ErrCancelled) || errors.Is(err, io.EOF) {
				a.UI.Tell(Message{Title: AppTitle, Text: "No code was entered, so nothing was changed on this PC.", Final: true})
				return wire.PairResponse{}, ErrCancelled
			}
			if err != nil {
				return wire.PairResponse{}, a.fail(err.Error())
			}
		}
		resp, err := c.Pair(ctx, wire.PairRequest{Token: d.Token, Code: code, Facts: facts})
		code = ""
		if err == nil {
			a.Log.Printf("paired: session %d, technician %s", resp.SessionID, resp.Technician.Email)
			c.SetRelayToken(resp.RelayToken)
			return resp, nil
		}
		if errors.Is(err, ErrWrongStation) {
			return resp, a.fail(msgWrongStation)
		}
		if w, ok := refusal(err); ok {
			if text, final := finalRefusal(w); final {
				return resp, a.fail(text)
			}
			problem = codeProblem(w)
			a.Log.Printf("code refused: %s", w.Code)
			continue
		}
		var off *OfflineError
		if errors.As(err, &off) {
			problem = offlineProblem(off.Err)
			continue
		}
		return resp, a.fail(err.Error())
	}
}

// start creates the account for a fresh pairing and runs the session.
func (a *App) start(ctx context.Context, dir, exe string, c *Client, resp wire.PairResponse) error {
	if resp.AccountName != "" && resp.AccountName != AccountName {
		a.Log.Printf("the station asked for account %q; creating %s as always", resp.AccountName, AccountName)
	}
	// The session's length comes from the station's two times, and the
	// deadline from this PC's clock, so a skewed clock on either side does
	// not shorten or stretch the 24 hours.
	length := resp.ExpiresAt.Sub(resp.ActivatedAt)
	if length <= 0 || length > 24*time.Hour {
		length = 24 * time.Hour
	}
	st := State{StationURL: c.stationURL, Pins: c.pins, AgentKey: resp.AgentKey, SessionID: resp.SessionID,
		Technician: resp.Technician.Name, TechEmail: resp.Technician.Email, Account: AccountName,
		ExpiresAt: a.Clock.Now().Add(length), Hub: c.hubURL(), RelayToken: c.relayToken()}
	if err := checkPassword(resp.Password); err != nil {
		a.receipt(ctx, c, st.AgentKey, "the PC refused the password: "+err.Error()+"; no account was created")
		return a.fail("The technician's password cannot be used for a Windows account (" + err.Error() + "). Nothing was created. Tell your technician.")
	}
	// Installed first, so that whatever runs elevated after a restart is
	// the admin-only copy, never the downloaded file.
	if err := a.Sys.Install(exe); err != nil {
		a.receipt(ctx, c, st.AgentKey, "the PC could not install the app ("+err.Error()+"); no account was created")
		return a.fail(fmt.Sprintf("This app could not install itself (%v). Nothing was created. Tell your technician.", err))
	}
	// The record goes to disk before the account exists, so a crash between
	// the two still leads to a cleanup.
	if err := a.saveState(dir, st); err != nil {
		a.receipt(ctx, c, st.AgentKey, "the PC could not write the app's session record ("+err.Error()+"); no account was created")
		a.uninstall()
		return a.fail(fmt.Sprintf("This app cannot write its session record (%v). Nothing was created. Tell your technician.", err))
	}
	if err := a.createAccount(ctx, dir, &st, a.account(resp, st.ExpiresAt)); err != nil {
		text, detail := fmt.Sprintf("Windows could not create the support account (%v). Nothing was kept and this app will now remove itself. Tell your technician.", err),
			"the PC could not create the remote user account: "+err.Error()
		if errors.Is(err, ErrPasswordPolicy) {
			text, detail = msgPasswordPolicy, detailPasswordPolicy
		}
		if accErr, profErr := a.removeAccount(ctx, &st); accErr != nil || profErr != nil {
			a.Log.Printf("removing the half-made account: %v", errors.Join(accErr, profErr))
		}
		if err := a.Sys.UnhideAccount(AccountName); err != nil {
			a.Log.Printf("removing the hiding value: %v", err)
		}
		a.receipt(ctx, c, st.AgentKey, detail)
		a.forget(dir)
		a.UI.Tell(Message{Title: AppTitle, Text: text, Error: true, Final: true})
		a.uninstall()
		return fmt.Errorf("%w: %v", ErrRefused, err)
	}
	a.Log.Printf("account %s created, hidden and in Administrators; expires %s", AccountName, st.ExpiresAt.Format(time.RFC3339))
	if _, err := c.Agent(ctx, PathConfirm, st.AgentKey, ""); err == nil {
		st.Confirmed = true
	}
	if err := a.saveState(dir, st); err != nil {
		a.Log.Printf("could not update the session record: %v", err)
	}
	a.UI.Tell(Message{Title: AppTitle, Text: fmt.Sprintf(msgReady, st.ExpiresAt.Local().Format("Mon 2 Jan 15:04"))})
	return a.session(ctx, dir, c, st)
}

// stateDir returns the state folder, recreating it (and so dropping any
// record in it unread) when it was not made by this app.
func (a *App) stateDir() (string, error) {
	dir, err := a.Sys.StateDir()
	if errors.Is(err, ErrStateDirUntrusted) {
		a.Log.Printf("%v: deleting it unread and making it again", err)
		if err := a.Sys.ResetStateDir(); err != nil {
			return "", err
		}
		dir, err = a.Sys.StateDir()
	}
	return dir, err
}

func (a *App) account(resp wire.PairResponse, expires time.Time) Account {
	return Account{Name: AccountName, Password: resp.Password, FullName: "Ad Hoc Remote Support (" + resp.Technician.Name + ")",
		Comment: AccountComment, Expires: expires}
}

// resume continues a session recorded before a restart.
func (a *App) resume(ctx context.Context, dir string, st State) error {
	c, err := a.newClient(st.StationURL, st.Pins, st.Hub, st.RelayToken)
	if err != nil {
		// The account must still go: clean up without the station.
		return a.cleanup(ctx, dir, nil, st, reasonDamaged)
	}
	// The team's stations as the owner last listed them: one may hold the
	// PC now, while the owner is off.
	if _, err := c.SetTeamPins(st.TeamPins); err != nil {
		a.Log.Printf("the recorded team certificates cannot be used: %v", err)
	}
	if st.AppLeft {
		// The session is over; only the app's removal failed last time.
		return a.finishApp(dir, st)
	}
	if st.ProfileLeft {
		// The session is over; only the profile removal failed last time.
		return a.finishProfile(ctx, dir, st)
	}
	if !st.AccountReady {
		// Stopped half-way through creating the account: the password is
		// not kept, so the session cannot go on; remove what was made.
		return a.cleanup(ctx, dir, c, st, reasonInterrupted)
	}
	return a.session(ctx, dir, c, st)
}

// newClient reaches the station directly, or through hubURL's relay when
// the details name a hub.
func (a *App) newClient(stationURL string, pins []string, hubURL, token string) (*Client, error) {
	if hubURL == "" {
		return NewClient(stationURL, pins)
	}
	return NewClientVia(stationURL, pins, &Hub{URL: hubURL, Token: token, HTTPClient: a.HubClient, Proxy: a.HubProxy})
}
