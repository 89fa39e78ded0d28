// Command AdHocSupport is the Support Session app that the end user runs on
// the Windows PC: it pairs the PC with the technician's station using the
// security code, creates the hidden support account for 24 hours and removes
// it (and itself) afterwards. The flow is in agent/support, the Windows side
// in agent/winsys.
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
	resume  bool
}

func main() {
	var o options
	flag.StringVar(&o.code, "code", "", "the security code, for scripted use (asked for when missing or wrong)")
	flag.BoolVar(&o.console, "console", false, "ask in this console window instead of dialogs")
	flag.BoolVar(&o.yes, "yes", false, "with --console: agree to the consent text without asking")
	flag.BoolVar(&o.resume, "resume", false, "continue a running session after a restart (used by the logon task)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "AdHocSupport — the Support Session app. Run it from the invitation's download and type the security code your technician reads out.")
		flag.PrintDefaults()
	}
	flag.Parse()
	os.Exit(run(o))
}
