package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"adhocstation/core"
)

// sessionJSON is the stable shape of a session in `sessions list --json`,
// `sessions show --json` and `sessions prepare --json`. Fields are only
// ever added.
type sessionJSON struct {
	ID              int64      `json:"id"`
	State           core.State `json:"state"`
	Technician      string     `json:"technician"`
	TechnicianEmail string     `json:"technician_email"`
	UserEmail       string     `json:"user_email"`
	CreatedAt       time.Time  `json:"created_at"`
	InviteExpiresAt time.Time  `json:"invite_expires_at"`
	ActivatedAt     *time.Time `json:"activated_at,omitempty"`
	ExpiresAt       *time.Time `json:"expires_at,omitempty"`
	ClosedAt        *time.Time `json:"closed_at,omitempty"`
	CloseReason     string     `json:"close_reason,omitempty"`
	CodeAttempts    int        `json:"code_attempts_left"`
	Computer        string     `json:"computer,omitempty"`
	OS              string     `json:"os,omitempty"`
	WindowsUser     string     `json:"windows_user,omitempty"`
	Online          bool       `json:"online"`
	// ViaHub is the relay hub the PC paired through; "" when it paired
	// directly or has not paired.
	ViaHub     string `json:"via_hub,omitempty"`
	Email      string `json:"email_state"`
	EmailError string `json:"email_error,omitempty"`
	// Link is the deployment link, known only while the session waits for
	// its user (the code panel's Copy link); shown by show and prepare.
	Link string `json:"link,omitempty"`
}

func sessionToJSON(s core.Session) sessionJSON {
	r := sessionJSON{ID: s.ID, State: s.State, Technician: s.ProfileName, TechnicianEmail: s.ProfileEmail,
		UserEmail: s.UserEmail, CreatedAt: s.CreatedAt, InviteExpiresAt: s.InviteExpiresAt, CloseReason: s.CloseReason,
		CodeAttempts: s.CodeAttemptsLeft, Email: string(s.Email.State), EmailError: s.Email.LastError}
	if !s.ActivatedAt.IsZero() {
		r.ActivatedAt, r.ExpiresAt = &s.ActivatedAt, &s.ExpiresAt
	}
	if !s.ClosedAt.IsZero() {
		r.ClosedAt = &s.ClosedAt
	}
	if c := s.Computer; c != nil {
		r.Computer, r.OS, r.WindowsUser, r.Online = c.Hostname, c.OSName, c.WindowsUser, c.Online
		r.ViaHub = s.ViaHub
	}
	return r
}

func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (c *cli) listSessions(args []string) error {
	fs := flag.NewFlagSet("sessions list", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "")
	all := fs.Bool("all", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("sessions list takes no arguments besides --json and --all.")
	}
	st, err := c.station()
	if err != nil {
		return err
	}
	sessions, err := st.Sessions(context.Background(), core.SessionFilter{OpenOnly: !*all})
	if err != nil {
		return err
	}
	rows := make([]sessionJSON, 0, len(sessions))
	for _, s := range sessions {
		rows = append(rows, sessionToJSON(s))
	}
	if *asJSON {
		return writeJSON(c.out, rows)
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tTECHNICIAN\tUSER\tCOMPUTER\tTIME LEFT")
	now := st.Now()
	var notes []string
	for i, r := range rows {
		left := sessions[i].TimeLeft(now).Round(time.Minute).String()
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.State, r.Technician, r.UserEmail, r.Computer, left)
		// Too long for a column: a failed try's sentence goes below the table.
		if retry := sessions[i].Email.RetryText(); retry != "" && sessions[i].State == core.StatePrepared {
			notes = append(notes, fmt.Sprintf("Session %d's invitation: %s", r.ID, retry))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(notes) > 0 {
		_, err = fmt.Fprintln(c.out, "\n"+strings.Join(notes, "\n"))
	}
	return err
}

func (c *cli) showSession(args []string) error {
	fs := flag.NewFlagSet("sessions show", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	st, id, err := c.sessionStation(pos, "show")
	if err != nil {
		return err
	}
	ctx := context.Background()
	sess, err := st.Session(ctx, id)
	if err != nil {
		return err
	}
	r := sessionToJSON(sess)
	if sess.Token != "" {
		if r.Link, err = st.Link(ctx, sess.Token); err != nil {
			return err
		}
	}
	if *asJSON {
		return writeJSON(c.out, r)
	}
	return printSession(c.out, r, st.Now(), sess.TimeLeft(st.Now()))
}

// printSession is the text form of one session, a field a line.
func printSession(out io.Writer, r sessionJSON, now time.Time, left time.Duration) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Local().Format("2006-01-02 15:04:05 MST")
	}
	line("Session", strconv.FormatInt(r.ID, 10))
	line("State", string(r.State))
	line("Technician", r.Technician+" <"+r.TechnicianEmail+">")
	line("End user", r.UserEmail)
	line("Prepared", stamp(&r.CreatedAt))
	if r.State == core.StatePrepared || r.State == core.StateActive {
		line("Time left", left.Round(time.Second).String())
	}
	line("Activated", stamp(r.ActivatedAt))
	line("Expires", stamp(r.ExpiresAt))
	line("Closed", stamp(r.ClosedAt))
	line("Reason", r.CloseReason)
	if r.Computer != "" {
		online := "offline"
		if r.Online {
			online = "online"
		}
		line("Computer", fmt.Sprintf("%s (%s, user %s, %s)", r.Computer, r.OS, r.WindowsUser, online))
		paired := "directly"
		if r.ViaHub != "" {
			paired = "via hub " + core.HubHost(r.ViaHub)
		}
		line("Paired", paired)
	}
	line("Email", emailText(core.EmailState(r.Email), r.EmailError))
	line("Link", r.Link)
	return tw.Flush()
}

// emailText says where the invitation is, for a person.
func emailText(state core.EmailState, lastError string) string {
	e := core.EmailStatus{State: state, LastError: lastError}
	if retry := e.RetryText(); retry != "" {
		return retry // the window's code panel's sentence
	}
	switch state {
	case core.EmailQueued:
		return "queued; the running station sends it"
	case core.EmailSent:
		return "sent"
	case core.EmailFailed:
		return "not sent: " + lastError
	case core.EmailNotConfigured:
		return "not sent — SMTP is not configured; send the link yourself, or set SMTP up with `adhoc-station settings set`"
	}
	return string(state)
}

// preparedJSON is what `sessions prepare --json` prints, once.
type preparedJSON struct {
	Session      sessionJSON `json:"session"`
	SecurityCode string      `json:"security_code"`
	Link         string      `json:"link"`
	// Password is set only with --generate-password: the technician needs it
	// to sign in to the PC, and it is not shown again.
	Password string `json:"password,omitempty"`
}

// prepare is the form's "Send email and prepare session": the same core
// call, so the same rules, refusals, audit entries and queued invitation.
func (c *cli) prepare(args []string) error {
	for _, a := range args {
		if name := strings.TrimLeft(a, "-"); strings.HasPrefix(a, "-") &&
			(name == "password" || strings.HasPrefix(name, "password=") || name == "confirm" || strings.HasPrefix(name, "confirm=")) {
			// Never echo the argument: it may hold the password.
			return usagef("A password is never taken as an argument, where other users of this computer can read it " +
				"in the process list: give it on standard input with --password-stdin, or use --generate-password.")
		}
	}
	fs := flag.NewFlagSet("sessions prepare", flag.ContinueOnError)
	profile := fs.String("profile", "", "")
	email := fs.String("email", "", "")
	fromStdin := fs.Bool("password-stdin", false, "")
	generate := fs.Bool("generate-password", false, "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseFlags(fs, args)
	switch {
	case err != nil:
		return err
	case len(pos) != 0:
		return usagef("sessions prepare takes only flags; %q is not one.", pos[0])
	case *profile == "":
		return usagef("Give the technician's profile with --profile (its number from `adhoc-station profiles list`, or its email address).")
	case *email == "":
		return usagef("Give the end user's email address with --email.")
	case *fromStdin == *generate:
		return usagef("Give the password on standard input with --password-stdin, or let the station make one with --generate-password (one of the two).")
	}
	st, err := c.station()
	if err != nil {
		return err
	}
	ctx := context.Background()
	profileID, err := findProfile(ctx, st, *profile)
	if err != nil {
		return err
	}
	var password string
	if *fromStdin {
		if password, err = readSecret(c.in); err != nil {
			return err
		}
	} else if password, err = generatePassword(st, *email); err != nil {
		return err
	}
	prep, err := st.Prepare(ctx, core.PrepareRequest{ProfileID: profileID, UserEmail: *email,
		Password: password, Confirm: password})
	if err != nil {
		return err
	}
	res := preparedJSON{Session: sessionToJSON(prep.Session), SecurityCode: prep.Code, Link: prep.Link}
	res.Session.Link = prep.Link
	if *generate {
		res.Password = password
	}
	if *asJSON {
		return writeJSON(c.out, res)
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Session %d prepared for %s (technician %s).\n", prep.Session.ID, prep.Session.UserEmail, prep.Session.ProfileName)
	fmt.Fprintf(tw, "Security code:\t%s\t(shown this once: read it to the user when the app asks)\n", prep.Code)
	if *generate {
		fmt.Fprintf(tw, "Password:\t%s\t(shown this once: sign in to the PC as AdHocRemoteUser with it)\n", password)
	}
	fmt.Fprintf(tw, "Link:\t%s\n", prep.Link)
	fmt.Fprintf(tw, "Email:\t%s\n", emailText(prep.Session.Email.State, prep.Session.Email.LastError))
	fmt.Fprintf(tw, "Valid until:\t%s\n", prep.Session.InviteExpiresAt.Local().Format("2006-01-02 15:04:05 MST"))
	return tw.Flush()
}

// findProfile takes a profile's number or its technician's email address.
func findProfile(ctx context.Context, st *core.Station, arg string) (int64, error) {
	if id, err := strconv.ParseInt(arg, 10, 64); err == nil {
		return id, nil // Prepare refuses an unknown number
	}
	ps, err := st.Profiles(ctx)
	if err != nil {
		return 0, err
	}
	for _, p := range ps {
		if strings.EqualFold(p.Email, arg) {
			return p.ID, nil
		}
	}
	return 0, core.ErrProfileNotFound
}

// maxSecret bounds what is read from standard input for one secret.
const maxSecret = 4096

// readSecret reads a secret from standard input: all of it, less one final
// line break (what `echo` and most password managers add). Any other
// control character stays, for core's rules to refuse.
func readSecret(in io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(in, maxSecret+1))
	if err != nil {
		return "", fmt.Errorf("read standard input: %w", err)
	}
	if len(b) > maxSecret {
		return "", usagef("Standard input holds more than %d bytes; give the secret alone.", maxSecret)
	}
	s := strings.TrimSuffix(string(b), "\n")
	return strings.TrimSuffix(s, "\r"), nil
}

// generatePassword draws a password that passes the rules for this user,
// drawing again in the rare case the user's email name appears in it.
func generatePassword(st *core.Station, email string) (string, error) {
	for range 100 {
		pw, err := core.GeneratePassword()
		if err != nil {
			return "", err
		}
		if err := st.ValidatePassword(email, pw); err == nil {
			return pw, nil
		}
	}
	// Only a bad email address gets here: let Prepare say what is wrong with it.
	return core.GeneratePassword()
}
