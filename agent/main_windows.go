package main

import (
	"context"
	"errors"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"adhocstation/agent/support"
	"adhocstation/agent/winsys"
)

// dialogs is the question-asking half of support.UI.
type dialogs interface {
	Consent(ctx context.Context, c support.Consent) (bool, error)
	AskCode(ctx context.Context, r support.CodeRequest) (string, error)
	Tell(m support.Message)
}

// ui joins the Win32 dialogs and the tray.
type ui struct {
	dialogs
	*winsys.Tray
}

// consoleUI shows the state in the console and the tray; typing "end" or
// the tray's menu item ends the session.
type consoleUI struct {
	*support.Console
	tray *winsys.Tray
	end  chan struct{}
}

func newConsoleUI(c *support.Console, tray *winsys.Tray) consoleUI {
	u := consoleUI{Console: c, tray: tray, end: make(chan struct{}, 1)}
	go func() {
		select {
		case <-c.EndRequested():
		case <-tray.EndRequested():
		}
		u.end <- struct{}{}
	}()
	return u
}

func (u consoleUI) ShowStatus(s support.Status) {
	u.Console.ShowStatus(s)
	u.tray.ShowStatus(s)
}

func (u consoleUI) EndRequested() <-chan struct{} { return u.end }

func run(o options) int {
	// Closing the console, logging off or shutting down arrives as SIGTERM:
	// the session then stops without cleanup and the logon task resumes it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tray := winsys.NewTray()
	var d dialogs = winsys.Dialogs{}
	var face support.UI = ui{d, tray}
	var logTo io.Writer = os.Stderr
	if o.console {
		c := support.NewConsole(os.Stdin, os.Stdout, o.yes)
		d, face = c, newConsoleUI(c, tray)
	} else {
		winsys.HideConsole()
		logTo = io.Discard
	}
	// A progress log (no secrets) in the user's temp folder, for support.
	if f, err := os.OpenFile(filepath.Join(os.TempDir(), "AdHocSupport.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
		defer f.Close()
		logTo = io.MultiWriter(logTo, f)
	}
	logger := log.New(logTo, "", log.LstdFlags)
	if !winsys.SingleInstance() {
		d.Tell(support.Message{Title: "Ad Hoc Support Session", Final: true,
			Text: "The Support Session app is already running on this PC. Find it in the notification area, next to the clock."})
		return 2
	}
	app := &support.App{Sys: winsys.New(), UI: face, Code: o.code, ResumeOnly: o.resume, Log: logger}
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		err = app.Run(ctx)
		tray.Quit()
	}()
	tray.Run(done) // the tray's message loop needs the main thread
	<-done
	switch {
	case err == nil:
		return 0
	case errors.Is(err, support.ErrCancelled):
		return 2
	}
	logger.Print(err)
	return 1
}
