// Command adhoc-station is the Ad Hoc Support Station: with no subcommand it
// opens the technician's window; with one it is a command-line face for
// scripts (package ui/cli).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"adhocstation/assets"
	"adhocstation/core"
	"adhocstation/core/pairing"
	"adhocstation/core/remote"
	"adhocstation/ui"
	"adhocstation/ui/cli"
	_ "adhocstation/ui/fynelocale" // before Fyne reads the locale: see its doc
)

func main() {
	flags := flag.NewFlagSet("adhoc-station", flag.ContinueOnError)
	data := flags.String("data", defaultDataDir(), "folder for the station's database, key and certificate")
	kiosk := flags.Bool("kiosk", false, "kiosk mode: full screen, larger type, settings behind the station PIN")
	// Printed here rather than by Parse: on Windows the console must be
	// attached first (console_windows.go).
	flags.SetOutput(io.Discard)
	flags.Usage = func() {}
	if err := flags.Parse(os.Args[1:]); err != nil {
		attachConsole()
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, cli.Usage)
			os.Exit(cli.ExitOK)
		}
		fmt.Fprintln(os.Stderr, err)
		fmt.Fprintln(os.Stderr, cli.Usage)
		os.Exit(cli.ExitUsage)
	}
	if flags.NArg() > 0 {
		attachConsole()
		os.Exit(cli.Run(*data, flags.Args(), os.Stdin, os.Stdout, os.Stderr))
	}
	if err := run(*data, *kiosk); err != nil {
		fmt.Fprintln(os.Stderr, "adhoc-station:", err)
		os.Exit(1)
	}
}

func run(data string, kiosk bool) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(logger) // the UI logs the internal errors it does not show
	st, err := core.Open(core.Config{DataDir: data, Logger: logger})
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(context.Background())
	running := make(chan struct{})
	go func() { st.Run(ctx); close(running) }()
	var srv *pairing.Server
	// shutdown runs once, at the end of run or from the window's watchdog
	// below: the pairing service, then the background work (an email being
	// delivered records that it was sent, or a restart sends it again),
	// then the database.
	shutdown := sync.OnceFunc(func() {
		if srv != nil {
			srv.Close()
		}
		stop()
		<-running
		st.Close()
	})
	defer shutdown()
	// A fresh station must not email links to "localhost".
	if host, ok, err := st.AdoptDetectedPublicHost(ctx); err != nil {
		logger.Warn("could not set the public host name; set it in Settings", "host", host, "err", err)
	} else if ok {
		logger.Info("public host name for deployment links set; change it in Settings if PCs reach this station by another name", "host", host)
	}
	var fingerprint func() string
	var applyPairing func() error
	var fwNote string
	var fwAllow func() error
	var hubState func() pairing.HubState
	var throughHub func(int64) bool
	var teamState func() pairing.TeamState
	var teamSessions func() []pairing.TeamSession
	var requestTeamEnd func(ctx context.Context, owner, session, preparedBy, technician string) (bool, error)
	var takeOver func(ctx context.Context, owner string, session int64) (remote.StreamOpener, func(), error)
	teamChanged := make(chan struct{}, 1)
	srv, pairingErr := startPairing(ctx, st, logger, teamChanged)
	if pairingErr != nil {
		// The station stays useful (profiles, outbox, history); PCs cannot pair until fixed.
		logger.Error("the pairing service did not start", "err", pairingErr)
	} else {
		fingerprint = srv.Fingerprint
		hubState, throughHub = srv.HubState, srv.ThroughHub
		teamState, teamSessions = srv.TeamState, srv.TeamSessions
		requestTeamEnd = srv.RequestTeamEnd
		takeOver = srv.TakeOver
		applyPairing = func() error { return srv.Apply(ctx) }
		fwNote, fwAllow = firewallNote(srv.Addr(), logger)
	}

	a := app.NewWithID("station.adhocsupport.app")
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	// Under Wine, Fyne's event loop has been seen not to end after the
	// window closed (about one close in twenty, with nothing logged): the
	// station would stay running, holding its pairing port. A closed
	// window ends the station within windowGrace all the same.
	closing := func() {
		time.AfterFunc(windowGrace, func() {
			logger.Error("the window closed but its event loop did not end within 4 s; stopping the station without it")
			shutdown()
			os.Exit(0)
		})
	}
	w := ui.New(a, st, ui.Options{Closing: closing, Kiosk: kiosk, KioskPIN: os.Getenv("ADHOC_STATION_PIN"), PairingError: pairingErr,
		PairingFingerprint: fingerprint, ApplyPairing: applyPairing, FirewallNote: fwNote, AllowFirewall: fwAllow,
		HubState: hubState, ThroughHub: throughHub, TeamState: teamState, TeamSessions: teamSessions, TeamChanged: teamChanged,
		RequestTeamEnd: requestTeamEnd, TakeOver: takeOver})
	quitOnSignal(a, logger)
	// Sized twice: before Show at scale 1 so the window usually appears at
	// its final size, and after, when the driver knows the screen's scale.
	ui.FitToWorkArea(w, screenWorkArea)
	w.Show()
	ui.FitToWorkArea(w, screenWorkArea)
	runApp(a, logger)
	// Logged so a close that never finishes shows which half hung: the
	// window (no line) or the deferred shutdown below (this line, no exit).
	logger.Info("the window closed; stopping the station")
	return nil
}

func defaultDataDir() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = "."
	}
	return filepath.Join(dir, "adhoc-support-station")
}
