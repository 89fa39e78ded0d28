package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/mail/mailtest"
	"adhocstation/core/oauth/oauthtest"
)

// cliResult is one run of the command line.
type cliResult struct {
	code        int
	out, errOut string
}

// runIn runs the command line on the data folder dir with stdin as input,
// as `adhoc-station --data dir args...` would.
func runIn(t *testing.T, dir, stdin string, args ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(dir, args, strings.NewReader(stdin), &out, &errOut)
	return cliResult{code, out.String(), errOut.String()}
}

// mustRun runs a command that must succeed and returns its output.
func mustRun(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	r := runIn(t, dir, stdin, args...)
	if r.code != ExitOK {
		t.Fatalf("%v: exit %d, stderr %q", args, r.code, r.errOut)
	}
	return r.out
}

// cliStation is a data folder with two technician profiles, 1 and 2.
func cliStation(t *testing.T) string {
	t.Helper()
	t.Setenv(core.KeyringEnv, "off") // no desktop keyring in tests: the SMTP password is sealed in the database
	dir := t.TempDir()
	mustRun(t, dir, "", "profiles", "add", "Anna Tech", "anna.tech@example.com")
	mustRun(t, dir, "", "profiles", "add", "Ben Tech", "ben.tech@example.com")
	return dir
}

func prepareArgs(profile, email string, more ...string) []string {
	return append([]string{"sessions", "prepare", "--profile", profile, "--email", email}, more...)
}

func decode[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("output is not the expected JSON: %v\n%s", err, out)
	}
	return v
}

var codeShape = regexp.MustCompile(`^\d{3} \d{3} \d{3}$`)

func TestCLIPrepare(t *testing.T) {
	dir := cliStation(t)
	out := mustRun(t, dir, coretest.Password+"\n", prepareArgs("1", "user@example.com", "--password-stdin", "--json")...)
	got := decode[preparedJSON](t, out)
	if !codeShape.MatchString(got.SecurityCode) {
		t.Errorf("security code %q", got.SecurityCode)
	}
	if !strings.HasPrefix(got.Link, "https://") || got.Session.Link != got.Link {
		t.Errorf("link %q, session link %q", got.Link, got.Session.Link)
	}
	s := got.Session
	if s.ID != 1 || s.State != core.StatePrepared || s.Technician != "Anna Tech" || s.UserEmail != "user@example.com" ||
		s.Email != string(core.EmailNotConfigured) || got.Password != "" {
		t.Errorf("prepared %+v", got)
	}

	// show: the same session, its link, and never the code again.
	show := mustRun(t, dir, "", "sessions", "show", "1", "--json")
	shown := decode[sessionJSON](t, show)
	if shown.ID != 1 || shown.State != core.StatePrepared || shown.Link != got.Link || shown.CodeAttempts != 5 {
		t.Errorf("show: %+v", shown)
	}
	digits := strings.ReplaceAll(got.SecurityCode, " ", "")
	for _, text := range []string{show, mustRun(t, dir, "", "sessions", "show", "1"), mustRun(t, dir, "", "sessions", "list", "--json")} {
		if strings.Contains(text, got.SecurityCode) || strings.Contains(text, digits) {
			t.Errorf("the security code is shown again: %s", text)
		}
	}

	// The password typed on stdin is the session's: the PC gets exactly it.
	paired := pairWith(t, dir, got)
	if paired.Password != coretest.Password {
		t.Errorf("the PC got password %q, want the one given on stdin", paired.Password)
	}
	if list := decode[[]sessionJSON](t, mustRun(t, dir, "", "sessions", "list", "--json")); len(list) != 1 || list[0].State != core.StateActive {
		t.Errorf("after pairing, list = %+v", list)
	}
}

// TestCLIPrepareNamesThisComputer: on a station whose window never ran, the
// link names this computer's address, as the window's would, not localhost
// (issue 17, item 16).
func TestCLIPrepareNamesThisComputer(t *testing.T) {
	host := core.DetectPublicHost()
	if host == "localhost" {
		t.Skip("this computer has no address but localhost to name in links")
	}
	dir := cliStation(t)
	got := decode[preparedJSON](t, mustRun(t, dir, "", prepareArgs("1", "user@example.com", "--generate-password", "--json")...))
	u, err := url.Parse(got.Link)
	if err != nil || u.Hostname() != host {
		t.Errorf("link %q, want one to %s, the address the window would name", got.Link, host)
	}
	set := decode[map[string]any](t, mustRun(t, dir, "", "settings", "get", "--json"))
	if set["pairing.public_host"] != host {
		t.Errorf("settings say pairing.public_host %v, want %s", set["pairing.public_host"], host)
	}
}

// pairWith pairs coretest's Windows PC with a session prepared on the
// command line, through core on the same folder (the pairing service's call).
func pairWith(t *testing.T, dir string, prep preparedJSON) core.Paired {
	t.Helper()
	st, err := core.Open(core.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	token := prep.Link[strings.LastIndexByte(prep.Link, '/')+1:]
	paired, err := st.Pair(t.Context(), core.PairRequest{Token: token, Code: prep.SecurityCode,
		RemoteAddr: "192.0.2.10:5000", Facts: coretest.WindowsPC})
	if err != nil {
		t.Fatalf("pairing with the command line's code and link: %v", err)
	}
	return paired
}

func TestCLIPrepareGeneratesPassword(t *testing.T) {
	dir := cliStation(t)
	got := decode[preparedJSON](t, mustRun(t, dir, "", prepareArgs("ben.tech@example.com", "user@example.com", "--generate-password", "--json")...))
	if got.Session.Technician != "Ben Tech" {
		t.Errorf("--profile by email picked %q", got.Session.Technician)
	}
	if err := (&core.Station{}).ValidatePassword("user@example.com", got.Password); err != nil || len(got.Password) < 20 {
		t.Fatalf("generated password %q: %v", got.Password, err)
	}
	if paired := pairWith(t, dir, got); paired.Password != got.Password {
		t.Errorf("the PC got %q, the command line printed %q", paired.Password, got.Password)
	}

	// The text form prints the code and the password, each once.
	out := mustRun(t, dir, "", prepareArgs("1", "user@example.com", "--generate-password")...)
	code := regexp.MustCompile(`Security code:\s+(\d{3} \d{3} \d{3})`).FindStringSubmatch(out)
	pw := regexp.MustCompile(`Password:\s+(\S+)`).FindStringSubmatch(out)
	if code == nil || pw == nil || strings.Count(out, code[1]) != 1 || strings.Count(out, pw[1]) != 1 ||
		!strings.Contains(out, "Link:") {
		t.Errorf("text output:\n%s", out)
	}
}

// Every refusal of the form is the command line's too: exit 1, core's
// sentence on stderr, nothing on stdout, no session made.
func TestCLIPrepareRefusals(t *testing.T) {
	const other = "Another-Horse-77"
	cases := []struct {
		name     string
		setup    func(t *testing.T, dir string)
		args     []string
		password string
		want     string
	}{
		{"ErrProfileNotFound", nil, prepareArgs("99", "user@example.com", "--password-stdin"), coretest.Password,
			core.ErrProfileNotFound.Error()},
		{"ErrProfileNotFoundByEmail", nil, prepareArgs("nobody@example.com", "user@example.com", "--password-stdin"),
			coretest.Password, core.ErrProfileNotFound.Error()},
		{"ErrInvalidEmail", nil, prepareArgs("1", "user@@example", "--password-stdin"), coretest.Password,
			`"user@@example" is not a valid email address`},
		{"ShortPassword", nil, prepareArgs("1", "user@example.com", "--password-stdin"), "Short-1", "at least 10 characters"},
		{"EmptyPassword", nil, prepareArgs("1", "user@example.com", "--password-stdin"), "", "at least 10 characters"},
		{"ControlCharacters", nil, prepareArgs("1", "user@example.com", "--password-stdin"), "Correct\tHorse-42",
			"must not contain control characters"},
		{"TwoLines", nil, prepareArgs("1", "user@example.com", "--password-stdin"), coretest.Password + "\n" + other + "\n",
			"must not contain control characters"},
		{"ContainsUserName", nil, prepareArgs("1", "horse@example.com", "--password-stdin"), coretest.Password,
			"must not contain the user's email name (horse)"},
		{"ErrProfileBusy", func(t *testing.T, dir string) {
			mustRun(t, dir, other, prepareArgs("1", "first@example.com", "--password-stdin")...)
		}, prepareArgs("1", "user@example.com", "--password-stdin"), coretest.Password, core.ErrProfileBusy.Error()},
		{"ErrPasswordInUse", func(t *testing.T, dir string) {
			mustRun(t, dir, coretest.Password, prepareArgs("2", "first@example.com", "--password-stdin")...)
		}, prepareArgs("1", "user@example.com", "--password-stdin"), coretest.Password, core.ErrPasswordInUse.Error()},
		{"ErrNoSeat", func(t *testing.T, dir string) {
			mustRun(t, dir, "", "settings", "set", "seats=1")
			mustRun(t, dir, other, prepareArgs("2", "first@example.com", "--password-stdin")...)
		}, prepareArgs("1", "user@example.com", "--password-stdin"), coretest.Password,
			(&core.SeatError{Seats: 1}).Error()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := cliStation(t)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			before := mustRun(t, dir, "", "sessions", "list", "--all", "--json")
			r := runIn(t, dir, tc.password, tc.args...)
			if r.code != ExitRefused {
				t.Fatalf("exit %d, want %d (stderr %q)", r.code, ExitRefused, r.errOut)
			}
			if !strings.Contains(r.errOut, tc.want) {
				t.Errorf("stderr %q, want it to say %q", r.errOut, tc.want)
			}
			if r.out != "" {
				t.Errorf("a refused prepare printed %q", r.out)
			}
			if after := mustRun(t, dir, "", "sessions", "list", "--all", "--json"); after != before {
				t.Errorf("a refused prepare changed the sessions:\n%s", after)
			}
		})
	}
}

// Command lines the station does not understand exit 2 and say why; a
// secret given as an argument is refused without being echoed.
func TestCLIUsageErrors(t *testing.T) {
	dir := cliStation(t)
	const secret = "Hunter-Secret-2000"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sessions", "prepare", "--profile", "1", "--password-stdin"}, "--email"},
		{[]string{"sessions", "prepare", "--email", "user@example.com", "--password-stdin"}, "--profile"},
		{prepareArgs("1", "user@example.com"), "one of the two"},
		{prepareArgs("1", "user@example.com", "--password-stdin", "--generate-password"), "one of the two"},
		{prepareArgs("1", "user@example.com", "--password", secret), "never taken as an argument"},
		{prepareArgs("1", "user@example.com", "--password="+secret), "never taken as an argument"},
		{prepareArgs("1", "user@example.com", "--password-stdin", "extra"), `"extra" is not one`},
		{prepareArgs("1", "user@example.com", "--password-stdin", "--colour"), "flag provided but not defined"},
		{[]string{"sessions", "end", "first"}, "is not a session number"},
		{[]string{"sessions", "show"}, "Give the number"},
		{[]string{"sessions", "explode"}, "is not a command"},
		{[]string{"settings", "set", "smtp.password=" + secret}, "read only from standard input"},
		{[]string{"settings", "set", "colour=blue"}, `"colour" is not a setting`},
		{[]string{"settings", "set", "seats"}, "is not KEY=VALUE"},
		{[]string{"settings", "get", "colour"}, `"colour" is not a setting`},
		{[]string{"settings", "forget", "seats"}, "Only a stored secret"},
		{[]string{"settings", "set", "smtp.client_secret=" + secret}, "read only from standard input"},
		{[]string{"settings", "set", "smtp.google_key", "--stdin"}, "--file PATH"},
	} {
		r := runIn(t, dir, coretest.Password, tc.args...)
		if r.code != ExitUsage || !strings.Contains(r.errOut, tc.want) || !strings.Contains(r.errOut, "usage:") {
			t.Errorf("%v: exit %d, stderr %q; want exit %d saying %q", tc.args, r.code, r.errOut, ExitUsage, tc.want)
		}
		if strings.Contains(r.errOut+r.out, secret) {
			t.Errorf("%v: the secret was echoed", tc.args)
		}
	}
}

// Exit 1 for refusals outside prepare too, and 3 when the station itself
// cannot work (here: the data folder is a file).
func TestCLIExitCodes(t *testing.T) {
	dir := cliStation(t)
	if r := runIn(t, dir, "", "sessions", "end", "7"); r.code != ExitRefused || !strings.Contains(r.errOut, core.ErrSessionNotFound.Error()) {
		t.Errorf("ending an unknown session: %+v", r)
	}
	if r := runIn(t, dir, "", "profiles", "add", "Anna Again", "ANNA.TECH@example.com"); r.code != ExitRefused {
		t.Errorf("a second profile for the same address: %+v", r)
	}
	file := filepath.Join(t.TempDir(), "not-a-folder")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runIn(t, file, "", "sessions", "list"); r.code != ExitFailed || !strings.Contains(r.errOut, "could not") {
		t.Errorf("a data folder that is a file: %+v", r)
	}
}

func TestCLISettings(t *testing.T) {
	dir := cliStation(t)
	mustRun(t, dir, "", "settings", "set", "seats=3", "invitation_timeout=30m", "pairing.public_host=station.example.com")
	if got := mustRun(t, dir, "", "settings", "get", "seats"); got != "3\n" {
		t.Errorf("get seats = %q", got)
	}
	all := decode[map[string]any](t, mustRun(t, dir, "", "settings", "get", "--json"))
	if all["seats"] != 3.0 || all["invitation_timeout"] != "30m" || all["pairing.public_host"] != "station.example.com" ||
		all["smtp.password"] != "not stored" || len(all) != len(settingKeys)+len(secretKeys)+1 {
		t.Errorf("settings get --json = %v", all)
	}
	text := mustRun(t, dir, "", "settings", "get")
	for _, k := range settingKeys {
		if !strings.Contains(text, "\n"+k.name+"=") && !strings.HasPrefix(text, k.name+"=") {
			t.Errorf("settings get does not list %s:\n%s", k.name, text)
		}
	}

	// Refused values: exit 1 with core's sentence, and nothing saved (one
	// refused value keeps the others of the same command from saving).
	for _, args := range [][]string{{"seats=0"}, {"seats=many"}, {"seats=9", "invitation_timeout=1m"},
		{"smtp.host=mail.example.com", "smtp.security=none", "smtp.sender=s@example.com"}} {
		r := runIn(t, dir, "", append([]string{"settings", "set"}, args...)...)
		if r.code != ExitRefused || r.errOut == "" {
			t.Errorf("settings set %v: %+v, want exit 1 with a reason", args, r)
		}
	}
	if got := mustRun(t, dir, "", "settings", "get", "seats"); got != "3\n" {
		t.Errorf("after refused sets, seats = %q", got)
	}

	// The SMTP password: from stdin only, never shown back, never in plain text on disk.
	const pw = "smtp-Secret-From-Stdin-7"
	if r := runIn(t, dir, "", "settings", "set", "smtp.password", "--stdin"); r.code != ExitRefused {
		t.Errorf("an empty password on stdin: %+v", r)
	}
	mustRun(t, dir, pw+"\n", "settings", "set", "smtp.password", "--stdin")
	if got := mustRun(t, dir, "", "settings", "get", "smtp.password"); got != "stored\n" {
		t.Errorf("get smtp.password = %q", got)
	}
	if strings.Contains(mustRun(t, dir, "", "settings", "get", "--json"), pw) {
		t.Error("settings get shows the SMTP password")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(pw)) {
			t.Errorf("%s holds the SMTP password in plain text", filepath.Base(f))
		}
	}
	mustRun(t, dir, "", "settings", "forget", "smtp.password")
	if got := mustRun(t, dir, "", "settings", "get", "smtp.password"); got != "not stored\n" {
		t.Errorf("after forget, get smtp.password = %q", got)
	}
}

// A session prepared on the command line sends the same invitation as the
// form's, through the outbox of the running station: SMTP set up on the
// command line too, against a real SMTP server on 127.0.0.1.
func TestCLIPrepareEmailsThroughOutbox(t *testing.T) {
	dir := cliStation(t)
	srv := mailtest.Start(t, mailtest.StartTLS)
	mustRun(t, dir, "", "settings", "set", "smtp.host="+srv.Host, "smtp.port="+strconv.Itoa(srv.Port),
		"smtp.security=starttls", "smtp.username="+mailtest.Username, "smtp.sender=support@example.com",
		"smtp.ca_file="+srv.CAFile)
	mustRun(t, dir, mailtest.Password, "settings", "set", "smtp.password", "--stdin")

	runningStation(t, dir)

	got := decode[preparedJSON](t, mustRun(t, dir, coretest.Password, prepareArgs("1", "user@example.com", "--password-stdin", "--json")...))
	if got.Session.Email != string(core.EmailQueued) {
		t.Errorf("email state after prepare = %q, want queued", got.Session.Email)
	}
	msgs := srv.Wait(1)
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "user@example.com" || msgs[0].AuthUser != mailtest.Username {
		t.Fatalf("messages: %+v", msgs)
	}
	if body := string(msgs[0].Data); !strings.Contains(body, got.Link) || strings.Contains(body, got.SecurityCode) {
		t.Error("the invitation lacks the link, or carries the security code")
	}
}

// With the mail server down, `sessions show` and `sessions list` say what
// the window's code panel says: not sent yet, why, and when the next try is.
func TestCLIShowsQueuedInvitationError(t *testing.T) {
	dir := cliStation(t)
	srv := mailtest.Start(t, mailtest.StartTLS)
	mustRun(t, dir, "", "settings", "set", "smtp.host="+srv.Host, "smtp.port="+strconv.Itoa(srv.Port),
		"smtp.security=starttls", "smtp.username="+mailtest.Username, "smtp.sender=support@example.com",
		"smtp.ca_file="+srv.CAFile)
	mustRun(t, dir, mailtest.Password, "settings", "set", "smtp.password", "--stdin")
	srv.Stop()

	window := runningStation(t, dir)
	sub := window.Subscribe()
	defer sub.Close()

	got := decode[preparedJSON](t, mustRun(t, dir, coretest.Password, prepareArgs("1", "user@example.com", "--password-stdin", "--json")...))
	var sess core.Session
	var err error
	for sess.Email.LastError == "" {
		if ev := <-sub.C; ev.Kind != core.EventEmail {
			continue
		}
		if sess, err = window.Session(t.Context(), got.Session.ID); err != nil {
			t.Fatal(err)
		}
	}
	want := sess.Email.RetryText()
	if sess.Email.State != core.EmailQueued || !strings.HasPrefix(want, "Not sent yet. Cannot reach the mail server") {
		t.Fatalf("invitation %+v, want queued with the reason it is not sent yet", sess.Email)
	}
	id := strconv.FormatInt(got.Session.ID, 10)
	if out := mustRun(t, dir, "", "sessions", "show", id); !strings.Contains(out, want) {
		t.Errorf("sessions show says\n%s\nwant %q", out, want)
	}
	if out := mustRun(t, dir, "", "sessions", "list"); !strings.Contains(out, "Session "+id+"'s invitation: "+want) {
		t.Errorf("sessions list says\n%s\nwant %q", out, want)
	}
}

// A station that saved public port 8443 next to the listen port :8443 (the
// old default) follows a listen port changed on the command line, as it
// does one changed on the Settings page; a public port given with it stays.
func TestCLIListenPortMovesOldDefaultPublicPort(t *testing.T) {
	dir := cliStation(t)
	mustRun(t, dir, "", "settings", "set", "pairing.listen=:8443", "pairing.public_port=8443", "pairing.public_host=support.example.com")
	if got := strings.TrimSpace(mustRun(t, dir, "", "settings", "get", "pairing.public_port")); got != "0" {
		t.Errorf("pairing.public_port of an old station reads %s, want 0 (the listen port), as on the Settings page", got)
	}
	mustRun(t, dir, "", "settings", "set", "pairing.listen=:9443")
	got := decode[preparedJSON](t, mustRun(t, dir, coretest.Password, prepareArgs("1", "user@example.com", "--password-stdin", "--json")...))
	if !strings.HasPrefix(got.Link, "https://support.example.com:9443/join/") {
		t.Errorf("after changing only the listen port the link is %s, want it on :9443", got.Link)
	}

	mustRun(t, dir, "", "settings", "set", "pairing.listen=:8443", "pairing.public_port=443")
	mustRun(t, dir, "", "settings", "set", "pairing.listen=:9443")
	if got := strings.TrimSpace(mustRun(t, dir, "", "settings", "get", "pairing.public_port")); got != "443" {
		t.Errorf("a public port of its own reads %s after changing the listen port, want 443", got)
	}
}

// The command line's changes reach a running station (the window's
// process) as events, as its own do.
func TestCLIChangesReachRunningStation(t *testing.T) {
	dir := cliStation(t)
	window := runningStation(t, dir)
	sub := window.Subscribe()
	defer sub.Close()

	got := decode[preparedJSON](t, mustRun(t, dir, coretest.Password, prepareArgs("1", "user@example.com", "--password-stdin", "--json")...))
	id := got.Session.ID
	coretest.WaitEvent(t, sub, core.EventPrepared, id)
	if out := mustRun(t, dir, "", "sessions", "end", strconv.FormatInt(id, 10)); out != "session 1 cancelled\n" {
		t.Errorf("sessions end on a waiting session says %q, want that it was cancelled", out)
	}
	coretest.WaitEvent(t, sub, core.EventCancelled, id)
	// The window reads how it closed once, as for its own Cancel session.
	if sess, err := window.Session(t.Context(), id); err != nil || sess.ClosedText() != "cancelled by the technician" {
		t.Errorf("the window reads the session as %q (%v)", sess.ClosedText(), err)
	}
	mustRun(t, dir, "", "settings", "set", "seats=4")
	coretest.WaitEvent(t, sub, core.EventSettings, 0)
	mustRun(t, dir, "", "profiles", "add", "Cleo Tech", "cleo.tech@example.com")
	coretest.WaitEvent(t, sub, core.EventProfiles, 0)
}

// The OAuth sign-in settings and their secrets from the command line: the
// client secret from standard input, the Google key from a file, neither
// ever shown back nor written in plain text; a refused value exits 1.
func TestCLIOAuthSettings(t *testing.T) {
	dir := cliStation(t)
	srv := oauthtest.Start(t)
	mustRun(t, dir, oauthtest.ClientSecret+"\n", "settings", "set", "smtp.client_secret", "--stdin")
	mustRun(t, dir, "", "settings", "set", "smtp.host=smtp.office365.com", "smtp.port=587", "smtp.security=starttls",
		"smtp.auth=microsoft365", "smtp.username=support@contoso.com", "smtp.sender=support@contoso.com",
		"smtp.tenant="+oauthtest.Tenant, "smtp.client_id="+oauthtest.ClientID, "smtp.token_url="+srv.MicrosoftURL())
	all := decode[map[string]any](t, mustRun(t, dir, "", "settings", "get", "--json"))
	if all["smtp.auth"] != "microsoft365" || all["smtp.tenant"] != oauthtest.Tenant ||
		all["smtp.client_id"] != oauthtest.ClientID || all["smtp.client_secret"] != "stored" {
		t.Errorf("settings get --json = %v", all)
	}
	if r := runIn(t, dir, "", "settings", "set", "smtp.tenant=not a tenant"); r.code != ExitRefused || !strings.Contains(r.errOut, "Tenant") {
		t.Errorf("a bad tenant: %+v, want exit 1 naming the tenant", r)
	}

	keyFile := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(keyFile, srv.KeyFile(), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, "", "settings", "set", "smtp.google_key", "--file", keyFile)
	if got := mustRun(t, dir, "", "settings", "get", "smtp.google_key"); got != "service account "+oauthtest.ServiceAccount+"\n" {
		t.Errorf("get smtp.google_key = %q", got)
	}
	if r := runIn(t, dir, "", "settings", "set", "smtp.google_key", "--file", filepath.Join(dir, "missing.json")); r.code != ExitRefused {
		t.Errorf("a missing key file: %+v, want exit 1", r)
	}
	out := mustRun(t, dir, "", "settings", "get")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, secret := range []string{oauthtest.ClientSecret, "PRIVATE KEY"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds %q in plain text", filepath.Base(f), secret)
			}
		}
	}
	if strings.Contains(out, oauthtest.ClientSecret) || strings.Contains(out, "PRIVATE KEY") {
		t.Errorf("settings get shows a secret:\n%s", out)
	}
	mustRun(t, dir, "", "settings", "forget", "smtp.google_key")
	mustRun(t, dir, "", "settings", "forget", "smtp.client_secret")
	if got := mustRun(t, dir, "", "settings", "get", "smtp.client_secret"); got != "not stored\n" {
		t.Errorf("after forget, get smtp.client_secret = %q", got)
	}
}

// runningStation is the window's process on dir: the station opened and
// running its background work (outbox, change watcher) until the test ends.
func runningStation(t *testing.T, dir string) *core.Station {
	window, err := core.Open(core.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { window.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { window.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return window
}
