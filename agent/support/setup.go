package support

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"adhocstation/core/wire"
)

// Setup is the first run, from the download: it asks for consent before
// anything is changed, installs the app into the admin-only folder, starts
// the service and then only answers the service's questions (the security
// code) through the pipe. Everything else happens in the service.
type Setup struct {
	Sys System
	UI  UI
	// StartService starts the installed service; Dial connects to its pipe
	// (waiting for it up to the context's deadline).
	StartService func() error
	Dial         func(ctx context.Context) (net.Conn, error)
	// Answer answers the service's questions on conn through ui and
	// returns once the session runs: the setup helper's side of the pipe
	// (agent/pipe's AnswerSetup).
	Answer func(ctx context.Context, conn net.Conn, ui UI) error
	Log    *log.Logger
}

// Run returns nil once the service runs the session, ErrCancelled when the
// user declined or gave up, ErrRefused otherwise.
func (s *Setup) Run(ctx context.Context) error {
	fail := func(text string) error {
		s.UI.Tell(Message{Title: AppTitle, Text: text, Error: true, Final: true})
		return fmt.Errorf("%w: %s", ErrRefused, text)
	}
	exe, err := s.Sys.Executable()
	if err != nil {
		return fail(fmt.Sprintf("This app cannot find its own file (%v). Download it again from the invitation.", err))
	}
	tail, err := s.Sys.ReadTail(exe, wire.TrailerReadSize)
	if err != nil {
		return fail(fmt.Sprintf("This app cannot read its own file (%v). Download it again from the invitation.", err))
	}
	d, err := wire.ReadDetails(tail)
	if err != nil {
		return fail(wire.ErrNoDetails.Error())
	}
	agreed, err := s.UI.Consent(ctx, Consent{Technician: d.Technician, Text: consentText(d.Technician, 24*time.Hour)})
	if err != nil || !agreed {
		s.UI.Tell(Message{Title: AppTitle, Text: msgDeclined, Final: true})
		return ErrCancelled
	}
	if err := s.Sys.Install(exe); err != nil {
		return fail(fmt.Sprintf("This app could not install itself (%v). Nothing was changed. Tell your technician.", err))
	}
	if err := s.StartService(); err != nil {
		_ = s.Sys.Uninstall()
		return fail(fmt.Sprintf("This app could not start its service (%v). Nothing was changed. Tell your technician.", err))
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	conn, err := s.Dial(dctx)
	cancel()
	if err != nil {
		return fail(fmt.Sprintf("This app's service did not answer (%v). Restart the PC and run the app again, or tell your technician.", err))
	}
	return s.Answer(ctx, conn, agreedUI{s.UI})
}

// agreedUI answers the service's consent question with the consent the
// user already gave before anything was installed.
type agreedUI struct{ UI }

func (agreedUI) Consent(context.Context, Consent) (bool, error) { return true, nil }
