package main

import (
	"context"
	"errors"
	"log"
	"os"
	"os/signal"

	"adhocstation/agent/support"
	"adhocstation/agent/winsys"
)

// dialogs is the question-asking half of support.UI.
type dialogs interface {
	Consent(ctx context.Context, c support.Consent) (bool, error)
	AskCode(ctx context.Context, r support.CodeRequest) (string, error)
	Tell(m support.Message)
}

// ui joins the dialogs (Win32 or console) and the tray.
type ui struct {
	dialogs
	*winsys.Tray
}

func run(o options) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tray := winsys.NewTray()
	var d dialogs = winsys.Dialogs{}
	if o.console {
		d = support.NewConsole(os.Stdin, os.Stdout, o.yes)
	}
	app := &support.App{Sys: winsys.New(), UI: ui{d, tray}, Code: o.code, ResumeOnly: o.resume,
		Log: log.New(os.Stderr, "", log.LstdFlags)}
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
	log.Print(err)
	return 1
}
