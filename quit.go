package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"fyne.io/fyne/v2"

	"adhocstation/core"
	"adhocstation/core/pairing"
	"adhocstation/ui"
)

// quitGrace bounds stopping after SIGTERM or Ctrl+C, so a signal always
// ends the station within 5 s and frees its pairing port.
const quitGrace = 4 * time.Second

// windowGrace bounds the window's teardown after the station's window was
// closed; then the station stops without waiting for it (main.go).
const windowGrace = 4 * time.Second

// quitOnSignal lets a service manager or a test stop the station: the
// window is asked to close, and run's deferred shutdown follows. The
// request runs on the Fyne goroutine; if that is stuck (a hung X server, a
// redraw that never ends) or the shutdown takes longer than quitGrace, the
// station exits anyway, with code 1. A second signal exits at once.
func quitOnSignal(a fyne.App, logger *slog.Logger) {
	c := make(chan os.Signal, 2)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-c
		fyne.Do(func() { ui.Quit(a) })
		select {
		case <-time.After(quitGrace):
			logger.Error("the station did not stop within 4 s of the signal (its window did not close, or the shutdown hung); exiting without waiting further")
		case <-c:
			logger.Error("a second signal: exiting without waiting for the window")
		}
		os.Exit(1)
	}()
}

// portWait is how long a start waits for a pairing port still held: a
// station killed a moment ago holds its listener until its memory is
// released, which takes seconds for a large process.
const portWait = 10 * time.Second

// startPairing starts the pairing service, waiting up to portWait while
// its port is in use. teamChanged gets a value (never blocking) at each
// change of the station's team or its other stations' sessions.
func startPairing(ctx context.Context, st *core.Station, logger *slog.Logger, teamChanged chan struct{}) (*pairing.Server, error) {
	poke := func() {
		select {
		case teamChanged <- struct{}{}:
		default:
		}
	}
	deadline := time.Now().Add(portWait)
	for waited := false; ; waited = true {
		srv, err := pairing.Start(ctx, st, pairing.Options{Logger: logger,
			OnTeamState: func(pairing.TeamState) { poke() }, OnTeamList: func([]pairing.TeamSession) { poke() }})
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			if err == nil && waited {
				logger.Info("the pairing port is free again")
			}
			return srv, err
		}
		if !waited {
			logger.Warn("the pairing port is in use, perhaps by a station still exiting; waiting for it", "wait", portWait, "err", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// runApp runs Fyne's event loop until the station's window has closed.
// Windows close hidden first (ui.closeSettle), so Fyne 2.7.1's panic on a
// pointer move reaching a closing window (fyne-io/fyne#5981) has no event
// to meet; should one come all the same, the window was going away and
// nothing is lost, so that panic alone is logged and the station stops as
// after a normal close. Any other panic is raised again.
func runApp(a fyne.App, logger *slog.Logger) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if !closeRace(r, debug.Stack()) {
			panic(r)
		}
		logger.Error("Fyne panicked while a window closed (fyne-io/fyne#5981); stopping the station as after a normal close", "panic", fmt.Sprint(r))
	}()
	a.Run()
}

// closeRace tells the panic runApp forgives: a nil view's SetInputMode
// called from Fyne's pointer-move handling.
func closeRace(r any, stack []byte) bool {
	_, runtimeErr := r.(runtime.Error)
	return runtimeErr && bytes.Contains(stack, []byte("glfw.(*window).processMouseMoved")) &&
		bytes.Contains(stack, []byte("SetInputMode"))
}
