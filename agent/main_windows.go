package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/windows"

	"adhocstation/agent/applog"
	"adhocstation/agent/pipe"
	"adhocstation/agent/screen"
	"adhocstation/agent/support"
	"adhocstation/agent/winsys"
)

// Before any DLL is loaded on demand: only System32, never the folder the
// program sits in (a download folder may hold a planted version.dll).
func init() {
	_ = windows.SetDefaultDllDirectories(windows.LOAD_LIBRARY_SEARCH_SYSTEM32)
}

func run(o options) int {
	switch {
	case o.service:
		return runService()
	case o.tray:
		return runTray()
	case o.screen:
		return runScreen()
	}
	return runSetup(o)
}

// dialogs is the question-asking half of support.UI.
type dialogs interface {
	Consent(ctx context.Context, c support.Consent) (bool, error)
	AskCode(ctx context.Context, r support.CodeRequest) (string, error)
	Tell(m support.Message)
}

// setupUI is the first run's screen: dialogs (or the console), no tray.
type setupUI struct {
	dialogs
	code string
}

func (u *setupUI) AskCode(ctx context.Context, r support.CodeRequest) (string, error) {
	if c := u.code; c != "" && r.Problem == "" {
		u.code = "" // --code is tried once, then the user is asked
		return c, nil
	}
	return u.dialogs.AskCode(ctx, r)
}
func (*setupUI) ShowStatus(support.Status)     {}
func (*setupUI) EndRequested() <-chan struct{} { return nil }

// runSetup is the first run from the download (elevated by the manifest).
func runSetup(o options) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var d dialogs = winsys.Dialogs{}
	logTo := io.Discard
	if o.console {
		if err := winsys.UseParentConsole(); err == nil {
			d, logTo = support.NewConsole(os.Stdin, os.Stdout, o.yes), os.Stderr
		}
	}
	if !winsys.SingleInstance("AdHocSupportSetup") {
		d.Tell(support.Message{Title: "Ad Hoc Support Session", Final: true,
			Text: "The Support Session app is already being set up on this PC. Finish it in the other window."})
		return 2
	}
	s := &support.Setup{Sys: winsys.New(), UI: &setupUI{dialogs: d, code: o.code}, StartService: winsys.StartService,
		Dial: winsys.DialPipe, Answer: pipe.AnswerSetup, Log: log.New(logTo, "", log.LstdFlags)}
	err := s.Run(ctx)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, support.ErrCancelled):
		return 2
	}
	return 1
}

// runTray is the helper in a user's session: it shows the service's status
// and passes on "End support session and remove app". It runs with that
// user's token; the service's pipe admits interactive users.
func runTray() int {
	if !winsys.OneTrayPerSession() {
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tray := winsys.NewTray()
	chat := winsys.NewChatWindow()
	tray.OnChat = chat.Open
	face := trayUI{Dialogs: winsys.Dialogs{}, Tray: tray, ChatWindow: chat}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer tray.Quit()
		conn, err := winsys.DialPipe(ctx)
		if err != nil {
			return
		}
		_ = pipe.RunHelper(ctx, conn, pipe.RoleTray, face)
	}()
	tray.Run(done) // the tray's message loop needs the main thread
	<-done
	return 0
}

// trayUI shows messages as dialogs, the status in the tray and the chat in
// its window; it is never asked questions (the service asks only the
// setup helper).
type trayUI struct {
	winsys.Dialogs
	*winsys.Tray
	*winsys.ChatWindow
}

var _ pipe.ChatUI = trayUI{}

// runScreen is the screen helper: started by the service in the console
// session with its SYSTEM token, it serves the screen streams the service
// hands it and shows the user who is viewing. It ends when the service
// closes the pipe (or moves the helper to another session).
func runScreen() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := log.New(io.Discard, "", 0)
	if l, err := winsys.OpenScreenLog(); err == nil {
		defer l.Close()
		logger = log.New(l, fmt.Sprintf("screen[%d] ", os.Getpid()), log.LstdFlags)
	}
	var session uint32
	_ = windows.ProcessIdToSessionId(uint32(os.Getpid()), &session)
	logger.Printf("the screen helper started in session %d", session)
	h := &screen.Helper{
		Dial: func(ctx context.Context) (net.Conn, error) {
			// Not forever: a helper whose service is gone exits.
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return winsys.DialPipe(ctx)
		},
		Open: func() (screen.Desktop, error) { return winsys.OpenDesktopLogged(logger.Printf) },
		Show: winsys.NewBanner().Show,
		Log:  applog.From(logger),
	}
	err := h.Run(ctx)
	switch {
	case err == nil || errors.Is(err, context.Canceled):
		logger.Printf("the screen helper stops")
	case errors.Is(err, screen.ErrServiceGone):
		logger.Printf("the screen helper stops: the service is not answering on its pipe")
	default:
		logger.Printf("the screen helper stops: %v", err)
		return 1
	}
	return 0
}
