package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"adhocstation/core"
)

const cliUsage = `usage:
  adhoc-station [--data DIR] [--kiosk]            open the station's window
  adhoc-station [--data DIR] sessions list [--json] [--all]
  adhoc-station [--data DIR] sessions end ID
  adhoc-station [--data DIR] profiles add NAME EMAIL
  adhoc-station [--data DIR] profiles list
  adhoc-station [--data DIR] audit verify`

// errUsage is returned for a command line the station does not understand.
var errUsage = errors.New(cliUsage)

// runCLI is the command-line face for scripts and help-desk integrations. It
// works on the same database as a running station (SQLite allows it).
func runCLI(dataDir string, args []string, out io.Writer) error {
	st, err := core.Open(core.Config{DataDir: dataDir})
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	cmd := args[0]
	if len(args) > 1 {
		cmd += " " + args[1]
	}
	rest := args[min(2, len(args)):]
	switch cmd {
	case "sessions list":
		return listSessions(ctx, st, rest, out)
	case "sessions end":
		if len(rest) != 1 {
			return errUsage
		}
		id, err := strconv.ParseInt(rest[0], 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a session number; see `adhoc-station sessions list`", rest[0])
		}
		if err := st.End(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(out, "session %d ended\n", id)
		return nil
	case "profiles add":
		if len(rest) != 2 {
			return errUsage
		}
		p, err := st.CreateProfile(ctx, rest[0], rest[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "profile %d added: %s <%s>\n", p.ID, p.Name, p.Email)
		return nil
	case "profiles list":
		ps, err := st.Profiles(ctx)
		if err != nil {
			return err
		}
		for _, p := range ps {
			fmt.Fprintf(out, "%d\t%s\t%s\n", p.ID, p.Name, p.Email)
		}
		return nil
	case "audit verify":
		if err := st.VerifyAudit(ctx); err != nil {
			return err
		}
		fmt.Fprintln(out, "audit log intact")
		return nil
	}
	return errUsage
}

// sessionJSON is the stable shape of `sessions list --json`.
type sessionJSON struct {
	ID          int64      `json:"id"`
	State       core.State `json:"state"`
	Technician  string     `json:"technician"`
	UserEmail   string     `json:"user_email"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	Computer    string     `json:"computer,omitempty"`
	OS          string     `json:"os,omitempty"`
	WindowsUser string     `json:"windows_user,omitempty"`
	Online      bool       `json:"online"`
	Email       string     `json:"email_state"`
}

func listSessions(ctx context.Context, st *core.Station, args []string, out io.Writer) error {
	asJSON, all := false, false
	for _, a := range args {
		switch a {
		case "--json":
			asJSON = true
		case "--all":
			all = true
		default:
			return errUsage
		}
	}
	sessions, err := st.Sessions(ctx, core.SessionFilter{OpenOnly: !all})
	if err != nil {
		return err
	}
	rows := make([]sessionJSON, 0, len(sessions))
	for _, s := range sessions {
		r := sessionJSON{ID: s.ID, State: s.State, Technician: s.ProfileName, UserEmail: s.UserEmail,
			CreatedAt: s.CreatedAt, Email: string(s.Email.State)}
		if !s.ActivatedAt.IsZero() {
			r.ActivatedAt, r.ExpiresAt = &s.ActivatedAt, &s.ExpiresAt
		}
		if c := s.Computer; c != nil {
			r.Computer, r.OS, r.WindowsUser, r.Online = c.Hostname, c.OSName, c.WindowsUser, c.Online
		}
		rows = append(rows, r)
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tTECHNICIAN\tUSER\tCOMPUTER\tTIME LEFT")
	now := st.Now()
	for i, r := range rows {
		left := sessions[i].TimeLeft(now).Round(time.Minute).String()
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.State, r.Technician, r.UserEmail, r.Computer, left)
	}
	return tw.Flush()
}
