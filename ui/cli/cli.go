// Package cli is the station's second user interface: the command line for
// scripts and help-desk integrations (`adhoc-station sessions prepare …`),
// one file per noun. It works on core alone; it must not import Fyne, so
// it and its tests build without cgo's OpenGL driver.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"adhocstation/core"
)

const Usage = `usage:
  adhoc-station [--data DIR] [--kiosk]            open the station's window
  adhoc-station [--data DIR] sessions list [--json] [--all]
  adhoc-station [--data DIR] sessions show ID [--json]
  adhoc-station [--data DIR] sessions prepare --profile ID|EMAIL --email ADDR
                             (--password-stdin | --generate-password) [--json]
  adhoc-station [--data DIR] sessions end ID
  adhoc-station [--data DIR] profiles add NAME EMAIL
  adhoc-station [--data DIR] profiles list
  adhoc-station [--data DIR] settings get [KEY] [--json]
  adhoc-station [--data DIR] settings set KEY=VALUE...
  adhoc-station [--data DIR] settings set smtp.password|smtp.client_secret --stdin
  adhoc-station [--data DIR] settings set smtp.client_certificate|smtp.google_key --file PATH
  adhoc-station [--data DIR] settings forget smtp.password|smtp.client_secret|smtp.google_key
  adhoc-station [--data DIR] audit verify
  adhoc-station [--data DIR] hub join https://HUB CODE
  adhoc-station [--data DIR] hub status
  adhoc-station [--data DIR] hub leave [--end-sessions]
exit codes: 0 done, 1 refused by a rule (the reason is on stderr),
            2 usage error, 3 the station failed (database, disk; details on stderr)`

// Exit codes, as the README documents them for scripts; main uses them too
// for a command line it cannot parse.
const (
	ExitOK      = 0
	ExitRefused = 1 // a rule refused the request; its sentence is on stderr
	ExitUsage   = 2 // the command line is not understood
	ExitFailed  = 3 // the station could not do it (database, disk)
)

// usageError is a command line the station does not understand; why, if
// set, is a sentence saying what is wrong, printed above the usage.
type usageError struct{ why string }

func (e *usageError) Error() string { return e.why }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// cli is one run of the command line: where it reads and writes, and the
// station, opened only once the arguments have been understood.
type cli struct {
	dataDir     string
	in          io.Reader
	out, errOut io.Writer
	st          *core.Station
}

// Run is the command-line face for scripts and help-desk integrations.
// It works on the same database as a running station (SQLite allows it);
// the running window publishes its changes. It returns the exit code.
func Run(dataDir string, args []string, in io.Reader, out, errOut io.Writer) int {
	c := &cli{dataDir: dataDir, in: in, out: out, errOut: errOut}
	defer func() {
		if c.st != nil {
			c.st.Close()
		}
	}()
	cmd := args[0]
	if len(args) > 1 {
		cmd += " " + args[1]
	}
	rest := args[min(2, len(args)):]
	commands := map[string]func([]string) error{
		"sessions list":    c.listSessions,
		"sessions show":    c.showSession,
		"sessions prepare": c.prepare,
		"sessions end":     c.endSession,
		"profiles add":     c.addProfile,
		"profiles list":    c.listProfiles,
		"settings get":     c.getSettings,
		"settings set":     c.setSettings,
		"settings forget":  c.forgetSetting,
		"audit verify":     c.verifyAudit,
		"hub join":         c.joinHub,
		"hub status":       c.hubStatus,
		"hub leave":        c.leaveHub,
	}
	run, ok := commands[cmd]
	if !ok {
		return c.report(usagef("%q is not a command of the station.", strings.Join(args[:min(2, len(args))], " ")))
	}
	return c.report(run(rest))
}

// report prints err where a script and a person expect it and returns the
// exit code that says what kind of failure it was.
func (c *cli) report(err error) int {
	var usage *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &usage):
		if usage.why != "" {
			fmt.Fprintln(c.errOut, usage.why)
		}
		fmt.Fprintln(c.errOut, Usage)
		return ExitUsage
	}
	if text, ok := core.RefusalText(err); ok {
		fmt.Fprintln(c.errOut, text)
		return ExitRefused
	}
	fmt.Fprintln(c.errOut, "adhoc-station: the station could not do this:", err)
	return ExitFailed
}

// station opens the station's database on first use. Like the window at
// start, it names this computer's address in links on a station whose
// settings were never saved, not "localhost".
func (c *cli) station() (*core.Station, error) {
	if c.st == nil {
		st, err := core.Open(core.Config{DataDir: c.dataDir})
		if err != nil {
			return nil, err
		}
		c.st = st
		if _, _, err := st.AdoptDetectedPublicHost(context.Background()); err != nil {
			if _, refused := core.RefusalText(err); !refused {
				return nil, err
			}
			// A guess the rules refuse leaves the default, as in the window;
			// `settings set pairing.public_host=…` sets it.
		}
	}
	return c.st, nil
}

// parseFlags parses a subcommand's flags, which may come before or after
// its positional arguments, and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%s.", strings.TrimSuffix(err.Error(), "."))
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseID reads a session number.
func parseID(arg string) (int64, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id < 1 {
		return 0, usagef("%q is not a session number; see `adhoc-station sessions list`.", arg)
	}
	return id, nil
}

// bareStation opens the station for the command named, which takes no
// arguments.
func (c *cli) bareStation(args []string, command string) (*core.Station, error) {
	if len(args) != 0 {
		return nil, usagef("%s takes no arguments.", command)
	}
	return c.station()
}

// sessionStation reads the one session number in args, for the command
// that does verb with it, and opens the station.
func (c *cli) sessionStation(args []string, verb string) (*core.Station, int64, error) {
	if len(args) != 1 {
		return nil, 0, usagef("Give the number of the session to %s.", verb)
	}
	id, err := parseID(args[0])
	if err != nil {
		return nil, 0, err
	}
	st, err := c.station()
	return st, id, err
}

func (c *cli) endSession(args []string) error {
	st, id, err := c.sessionStation(args, "end")
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := st.End(ctx, id); err != nil {
		return err
	}
	// A session still waiting for its user is cancelled, not ended: say which.
	sess, err := st.Session(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "session %d %s\n", id, sess.State)
	return nil
}

func (c *cli) addProfile(args []string) error {
	if len(args) != 2 {
		return usagef("Give the technician's name and email address, e.g. profiles add \"Anna Tech\" anna@example.com.")
	}
	st, err := c.station()
	if err != nil {
		return err
	}
	p, err := st.CreateProfile(context.Background(), args[0], args[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "profile %d added: %s <%s>\n", p.ID, p.Name, p.Email)
	return nil
}

func (c *cli) listProfiles(args []string) error {
	st, err := c.bareStation(args, "profiles list")
	if err != nil {
		return err
	}
	ps, err := st.Profiles(context.Background())
	if err != nil {
		return err
	}
	for _, p := range ps {
		fmt.Fprintf(c.out, "%d\t%s\t%s\n", p.ID, p.Name, p.Email)
	}
	return nil
}

func (c *cli) verifyAudit(args []string) error {
	st, err := c.bareStation(args, "audit verify")
	if err != nil {
		return err
	}
	if err := st.VerifyAudit(context.Background()); err != nil {
		return err
	}
	fmt.Fprintln(c.out, "audit log intact")
	return nil
}
