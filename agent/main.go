// Command AdHocSupport is the Support Session app that the end user runs on
// the Windows PC. One program, four roles: run from the download it asks
// for consent and the security code, installs itself into an admin-only
// folder and starts its service (setup); the service owns the session from
// pairing to cleanup (--service); a tray helper runs in each signed-in
// user's session with that user's rights (--tray); a screen helper in the
// console session, with the service's SYSTEM token, captures the screen and
// injects the technician's input while a view runs (--screen). The flow is in
// agent/support, the Windows side in agent/winsys.
package main

import (
	"flag"
	"fmt"
	"os"
)

// options are the command-line flags.
type options struct {
	code    string
	console bool
	yes     bool
	service bool
	tray    bool
	screen  bool
}

func main() {
	var o options
	flag.StringVar(&o.code, "code", "", "the security code, for scripted use (asked for when missing or wrong)")
	flag.BoolVar(&o.console, "console", false, "ask in this console window instead of dialogs")
	flag.BoolVar(&o.yes, "yes", false, "with --console: agree to the consent text without asking")
	flag.BoolVar(&o.service, "service", false, "run as the Windows service (started by Windows)")
	flag.BoolVar(&o.tray, "tray", false, "run as the tray helper in this user's session (started by the service)")
	flag.BoolVar(&o.screen, "screen", false, "run as the screen helper in the console session (started by the service as SYSTEM)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "AdHocSupport — the Support Session app. Run it from the invitation's download and type the security code your technician reads out.")
		flag.PrintDefaults()
	}
	flag.Parse()
	os.Exit(run(o))
}
