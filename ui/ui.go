// Package ui draws the technician's window over core: one file per screen,
// one per reusable widget. It holds no SQL, SMTP or HTTP; it calls core and
// redraws on core's events.
package ui

import (
	"context"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/pairing"
	"adhocstation/core/remote"
)

// Options are the window's start-up choices.
type Options struct {
	// Closing, if set, is called when the station's window starts to close
	// (the technician closed it, or gave the kiosk PIN): main bounds how
	// long the window's teardown may take.
	Closing  func()
	Kiosk    bool   // full screen, larger type, settings behind KioskPIN
	KioskPIN string // the station PIN that unlocks settings in kiosk mode
	// PairingError, if set, is why the pairing service did not start; it
	// is shown above every page, since PCs cannot pair until it is fixed.
	PairingError error
	// PairingFingerprint, if set, returns the certificate fingerprint the
	// running pairing service serves; Settings shows it.
	PairingFingerprint func() string
	// ApplyPairing, if set, applies the saved pairing settings to the running
	// pairing service at once and says whether they took (a new pairing
	// address that cannot be opened); Settings calls it after saving.
	ApplyPairing func() error
	// HubState, if set, is the running pairing service's link to its
	// relay hub (Settings shows it); ThroughHub says which PCs come
	// through it (the Computers page shows it).
	HubState   func() pairing.HubState
	ThroughHub func(sessionID int64) bool
	// TeamState and TeamSessions, if set, are the station's team and the
	// sessions of its other stations (Settings and Computers show them).
	TeamState    func() pairing.TeamState
	TeamSessions func() []pairing.TeamSession
	// RequestTeamEnd, if set, asks another station of the team to end one
	// of its sessions (pairing.Server.RequestTeamEnd).
	RequestTeamEnd func(ctx context.Context, owner, session, preparedBy, technician string) (bool, error)
	// TakeOver, if set, brings the PC of another station's session to this
	// station for Connect on its line (pairing.Server.TakeOver).
	TakeOver func(ctx context.Context, owner string, session int64) (remote.StreamOpener, func(), error)
	// TeamChanged, if set, gets a value when either changed: the pages
	// follow at once instead of at the next once-a-second tick.
	TeamChanged <-chan struct{}
	// FirewallNote, if set, says why PCs may not reach the pairing port
	// through the host firewall (Windows: no rule for it yet); it is shown
	// above every page. AllowFirewall, if set, adds the rule.
	FirewallNote  string
	AllowFirewall func() error
}

// screen is what every page offers the window: its content, and a hook for
// core's events that the window calls on the Fyne goroutine.
type screen interface {
	content() fyne.CanvasObject
	onEvent(e core.Event)
}

// ticking screens also get the window's once-a-second tick for countdowns,
// on the Fyne goroutine, with the station's clock.
type ticking interface {
	onTick(now time.Time)
}

// stationWindow is the main window and what it keeps running: the event
// subscription and the countdown ticker, both stopped when it closes.
type stationWindow struct {
	win      fyne.Window
	st       *core.Station
	opts     Options
	adhoc    *adhocScreen
	screens  []screen
	tabs     *container.AppTabs
	kiosk    *kioskLock // nil unless in kiosk mode
	notifier *notifier
	sub      *core.Subscription
	stop     chan struct{}
	stopOnce sync.Once
	work     background // delivers core's events on the Fyne goroutine
	firewall *firewallBanner
	// teamChanged shows the team's state and other sessions now (opts.TeamChanged).
	teamChanged func()
}

// New builds the station's main window over st and starts delivering core's
// events to the screens. The window stops listening when it closes.
func New(a fyne.App, st *core.Station, opts Options) fyne.Window {
	return newStationWindow(a, st, opts, time.Second).win
}

// newStationWindow builds the window; tick is the countdown interval, 0 for
// none (tests call onTick themselves with their clock).
func newStationWindow(a fyne.App, st *core.Station, opts Options, tick time.Duration) *stationWindow {
	w := &stationWindow{win: a.NewWindow("Ad Hoc Support Station"), st: st, opts: opts,
		notifier: newNotifier(a, st), stop: make(chan struct{})}
	if opts.Kiosk {
		applyKioskTheme(a)
	}
	w.adhoc = newAdhocScreen(st, w.win)
	w.adhoc.kiosk = opts.Kiosk
	computers := newComputersScreen(st, w.win)
	activity := newActivityScreen(st, w.win)
	settings := newSettingsScreen(st, w.win)
	if opts.PairingFingerprint != nil {
		settings.showFingerprint(opts.PairingFingerprint)
	}
	settings.applyPairing = opts.ApplyPairing
	w.screens = []screen{w.adhoc, computers, activity, settings}
	settingsPage := settings.content()
	settings.showAppSignature(pairing.EmbeddedSignature()) // after the pairing group's rows
	settings.showHub(opts.HubState)
	settings.teamState = opts.TeamState
	computers.throughHub = opts.ThroughHub
	computers.team.sessions = opts.TeamSessions
	computers.team.requestEnd = opts.RequestTeamEnd
	computers.team.technician = technicianAt(st)
	computers.offerTeamConnect(opts.TakeOver)
	w.teamChanged = func() {
		computers.team.refresh()
		settings.refreshHub()
	}
	if opts.Kiosk {
		w.kiosk = newKioskLock(opts.KioskPIN, w.win, settingsPage, st.Now)
		w.kiosk.close = w.closeStation
		settingsPage = w.kiosk.content()
	}
	w.tabs = container.NewAppTabs(
		container.NewTabItem("Ad Hoc Support", w.adhoc.content()),
		container.NewTabItem("Computers", computers.content()),
		container.NewTabItem("Activity", activity.content()),
		container.NewTabItem("Settings", settingsPage),
	)
	w.tabs.OnSelected = func(t *container.TabItem) {
		if w.kiosk != nil && t.Text == "Settings" {
			w.kiosk.focus() // the PIN can be typed at once
		}
	}
	w.tabs.OnUnselected = func(t *container.TabItem) {
		if w.kiosk != nil && t.Text == "Settings" {
			w.kiosk.lock() // the next technician must type the PIN again
		}
	}
	w.win.SetContent(w.withFirewallNote(withProblem(opts.PairingError, w.tabs)))
	w.win.Resize(windowSize)
	if opts.Kiosk {
		w.win.SetFullScreen(true)
	}
	w.win.SetCloseIntercept(w.onCloseRequest)
	w.win.SetOnClosed(w.shutdown)

	w.sub = st.Subscribe()
	go w.deliver(w.sub)
	if tick > 0 {
		go w.runTicker(tick)
	}
	if opts.TeamChanged != nil {
		go w.followTeam(opts.TeamChanged)
	}
	return w
}

// followTeam refreshes the team's rows and line on each change the
// pairing service reports, on the Fyne goroutine.
func (w *stationWindow) followTeam(changed <-chan struct{}) {
	for {
		select {
		case <-w.stop:
			return
		case <-changed:
			w.work.apply(jobTeam, w.teamChanged)
		}
	}
}

// windowSize is the window's size where the screen allows it: the form and
// the code panel side by side, on a 1280×720 or 1366×768 screen with its
// task bar.
var windowSize = fyne.NewSize(1100, 660)

// titleBarAllowance is the height, in pixels, left for the window manager's
// title bar: the work area includes it, the window's size does not, and the
// frame's real size is known only after the window is shown.
const titleBarAllowance = 32

// FitToWorkArea shrinks the window, if need be, to the screen's work area
// (in pixels, from workArea; 0 when unknown), so that on a 1024×600 screen
// Save, Send and the code panel's bar are on screen. A full-screen window
// is left alone.
func FitToWorkArea(w fyne.Window, workArea func() (width, height int)) {
	pw, ph := workArea()
	if w.FullScreen() || pw <= 0 || ph <= 0 {
		return
	}
	scale := w.Canvas().Scale() // 1 until the driver has made the window
	if scale <= 0 {
		scale = 1
	}
	size := w.Canvas().Size()
	if size.IsZero() {
		size = windowSize
	}
	fit := fyne.NewSize(min(windowSize.Width, float32(pw)/scale),
		min(windowSize.Height, float32(ph-titleBarAllowance)/scale))
	if fit != size {
		w.Resize(fit)
	}
}

// withProblem puts a pairing service that did not start above the pages,
// where it cannot be missed.
func withProblem(pairing error, pages fyne.CanvasObject) fyne.CanvasObject {
	if pairing == nil {
		return pages
	}
	banner := widget.NewLabelWithStyle(problemText(pairing), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	banner.Wrapping = fyne.TextWrapWord
	banner.Importance = widget.DangerImportance
	return container.NewBorder(container.NewPadded(banner), nil, nil, nil, pages)
}

// deliver hands each event to every screen on the Fyne goroutine.
func (w *stationWindow) deliver(sub *core.Subscription) {
	for e := range sub.C {
		w.work.apply(eventJob(e.Kind), func() { w.dispatch(e) })
	}
}

func (w *stationWindow) dispatch(e core.Event) {
	for _, s := range w.screens {
		s.onEvent(e)
	}
	w.notifier.onEvent(e)
}

// runTicker is the window's one countdown clock.
func (w *stationWindow) runTicker(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			doUI(func() { w.tick(w.st.Now()) })
		}
	}
}

func (w *stationWindow) tick(now time.Time) {
	for _, s := range w.screens {
		if t, ok := s.(ticking); ok {
			t.onTick(now)
		}
	}
}

// onCloseRequest guards against closing by accident: in kiosk mode only the
// station PIN closes the window; elsewhere a code still on screen is the
// only thing that would be lost, so only then does it ask.
func (w *stationWindow) onCloseRequest() {
	switch {
	case w.kiosk != nil:
		w.kiosk.askToClose()
	case w.adhoc.showingCode():
		d := dialog.NewConfirm("Close the station?", "A security code is still on screen and will not be shown "+
			"again. The session itself stays prepared.", func(ok bool) {
			if ok {
				w.closeStation()
			}
		}, w.win)
		d.SetConfirmText("Close")
		d.SetDismissText("Stay")
		d.Show()
	default:
		w.closeStation()
	}
}

// closeStation closes the station's window, telling main first.
func (w *stationWindow) closeStation() {
	if w.opts.Closing != nil {
		w.opts.Closing()
	}
	closeSafely(w.win)
}

func (w *stationWindow) shutdown() {
	w.stopOnce.Do(func() {
		endUI(fyne.CurrentApp()) // before Fyne's loop ends: see doUI
		close(w.stop)
		w.sub.Close()
	})
}
