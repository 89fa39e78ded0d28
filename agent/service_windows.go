package main

import (
	"context"
	"errors"
	"log"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"

	"adhocstation/agent/applog"
	"adhocstation/agent/pipe"
	"adhocstation/agent/screen"
	"adhocstation/agent/support"
	"adhocstation/agent/winsys"
)

// service is the Windows service: it owns the session (support.App with
// the pipe's hub as its UI) and starts a tray helper in each user session.
type service struct{}

func runService() int {
	if err := svc.Run(winsys.ServiceName, service{}); err != nil {
		return 1
	}
	return 0
}

// Execute runs until the session is over (then the app is uninstalled) or
// Windows stops the service (the record resumes it at the next start).
func (service) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	win := winsys.New()
	logger, closeLog := openLog(win)
	defer closeLog()
	ln, err := winsys.ListenPipe()
	if err != nil {
		logger.Printf("cannot open the pipe %s: %v", winsys.PipeName, err)
		return true, 1
	}
	hub := pipe.NewHub(winsys.PipeCaller)
	hub.Log = applog.From(logger)
	hub.AtConsole = winsys.AtConsole
	// The screen streams go to the helper in the console session.
	screens := screen.NewRelay()
	screens.SendSAS = winsys.SendSAS // from the service itself, as Windows documents
	hub.Screens = screens
	go hub.Serve(ln)
	defer hub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The helper has its own context: stopping it before the uninstall
	// must not cancel the session's cleanup (its receipt is still to go).
	helperCtx, cancelHelper := context.WithCancel(ctx)
	helperDone := make(chan struct{})
	go func() {
		defer close(helperDone)
		winsys.KeepScreenHelper(helperCtx, logger.Printf)
	}()
	// The screen helper runs the installed program: it ends before the
	// program is removed (helperFirst) or the service stops.
	stopHelper := func() { cancelHelper(); <-helperDone }
	sys := helperFirst{System: win, stopHelper: stopHelper}
	app := &support.App{Sys: sys, UI: hub, Log: applog.From(logger), WriteFile: winsys.WriteAdminFile, Screens: screens,
		HubProxy: hubProxy(logger.Printf)}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	if ids, err := winsys.ActiveSessions(); err == nil {
		for _, id := range ids {
			startTray(logger, id)
		}
	}
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown | svc.AcceptSessionChange}
	for {
		select {
		case err := <-done:
			status <- svc.Status{State: svc.StopPending}
			stopHelper()
			if errors.Is(err, support.ErrNotDone) {
				// Exit with an error so Windows' restart policy runs the
				// service again and it retries what is left.
				logger.Printf("not done yet: %v", err)
				return true, 1
			}
			if err != nil {
				logger.Printf("session: %v", err)
				// Nothing is left for the service to keep (declined,
				// refused): it removes itself.
				if uerr := sys.Uninstall(); uerr != nil {
					logger.Printf("uninstall: %v", uerr)
				}
			}
			return false, 0
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				// The record stays; the next start resumes the session.
				status <- svc.Status{State: svc.StopPending}
				cancel()
				<-done
				stopHelper()
				return false, 0
			case svc.SessionChange:
				if c.EventType == windows.WTS_SESSION_LOGON || c.EventType == windows.WTS_SESSION_UNLOCK {
					// EventData points at memory the service manager owns,
					// not Go's heap: read it through a pointer to the field.
					n := *(**windows.WTSSESSION_NOTIFICATION)(unsafe.Pointer(&c.EventData))
					startTray(logger, n.SessionID)
				}
			}
		}
	}
}

func startTray(logger *log.Logger, session uint32) {
	if err := winsys.StartTray(session); err != nil {
		logger.Printf("tray: %v", err)
	}
}

// openLog opens the service's progress log (never a secret) in the
// admin-only state folder; it is removed with the folder at the end.
func openLog(sys *winsys.System) (*log.Logger, func()) {
	dir, err := sys.StateDir()
	if err != nil {
		return log.New(discard{}, "", 0), func() {}
	}
	f, err := winsys.CreateLog(filepath.Join(dir, "service.log"))
	if err != nil {
		return log.New(discard{}, "", 0), func() {}
	}
	return log.New(f, "", log.LstdFlags), func() { f.Close(); winsys.RemoveStateDirIfEmpty() }
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
