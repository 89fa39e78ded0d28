package support

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"time"

	"github.com/hashicorp/yamux"

	"adhocstation/core/wire"
)

// ErrWrongPassword comes from System.CheckPassword when the account
// refuses the password.
var ErrWrongPassword = errors.New("the password is not right")

// servedStreams are the attached streams this app serves, listed in the
// sign-in's answer: the station tells an older app (which lists none) by
// their absence.
var servedStreams = []string{wire.StreamCommand, wire.StreamFiles, wire.StreamChat, wire.StreamScreen}

// signInTimeout bounds reading the station's first line and answering it.
const signInTimeout = 15 * time.Second

// ServeChannel answers the streams the station opens on the live channel
// until it closes; technician names who signs in when the station does
// not say. It uses only Sys (CheckPassword, SystemInfo), UI.Tell and Log.
func (a *App) ServeChannel(ys *yamux.Session, technician string) {
	for {
		conn, err := ys.Accept()
		if err != nil {
			return
		}
		go a.serveStream(conn, technician)
	}
}

// serveStream checks a technician's sign-in against the hidden account and
// keeps the stream open while they are connected. Each attempt is logged
// here (never the password) and audited on the station.
func (a *App) serveStream(conn net.Conn, technician string) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(signInTimeout))
	// One reader for the stream's life: a second one would lose what the
	// first had already buffered (a stop line right after an attach).
	r := bufio.NewReaderSize(conn, wire.MaxStreamLine)
	line, err := r.ReadSlice('\n') // a line longer than MaxStreamLine fails
	var in wire.SignIn
	if err != nil || json.Unmarshal(line, &in) != nil {
		a.Log.Printf("a stream from the station did not start with a sign-in; closed")
		return
	}
	if in.Attach != "" {
		a.serveAttached(conn, r, in, technician)
		return
	}
	who := in.Technician
	if who == "" {
		who = technician
	}
	out := wire.SignInResult{OK: true}
	logon, err := a.Sys.CheckPassword(AccountName, in.Password)
	switch {
	case errors.Is(err, ErrWrongPassword):
		a.Log.Printf("sign-in by %s refused: wrong password", who)
		out = wire.SignInResult{Code: wire.CodeWrongPassword, Message: "the account refused the password"}
	case err != nil:
		a.Log.Printf("sign-in by %s failed: %v", who, err)
		out = wire.SignInResult{Code: wire.CodeInternal, Message: "the PC could not check the password: " + err.Error()}
	default:
		a.Log.Printf("%s signed in as %s", who, AccountName)
		out.Key = newKey()
		out.Streams = servedStreams
		session := newSignedIn(logon)
		session.left = func() { a.note(wire.ActivityLeft, noteLeft(who)) }
		a.remotes.Store(out.Key, session)
		defer func() {
			a.remotes.Delete(out.Key)
			session.end()
		}()
	}
	b, _ := json.Marshal(out)
	if _, err := conn.Write(append(b, '\n')); err != nil || !out.OK {
		return
	}
	_ = conn.SetDeadline(time.Time{})
	a.UI.Tell(Message{Title: AppTitle, Text: who + " connected"})
	a.note(wire.ActivityConnected, noteConnected(who))
	// The station closes the stream when the technician closes the
	// remote session (or the channel drops).
	a.answer(conn, r, who)
	a.Log.Printf("%s left", who)
	a.UI.Tell(Message{Title: AppTitle, Text: who + " left"})
}

// serveAttached joins a stream to the remote session its key names and
// serves what it asks for. A closed session, or a stream asking for
// nothing this app serves, is refused as closed: the answer older apps
// give, by which the station tells them apart.
func (a *App) serveAttached(conn net.Conn, r *bufio.Reader, in wire.SignIn, technician string) {
	var (
		logon   Logon
		release func()
		ok      bool
	)
	if in.Screen != nil || in.Chat != nil || in.Files != nil || in.Command != nil {
		logon, release, ok = a.attach(in.Attach, conn)
	}
	if !ok {
		_ = json.NewEncoder(conn).Encode(wire.SignInResult{Code: wire.CodeSessionClosed, Message: "that remote session is closed"})
		return
	}
	defer release()
	who := in.Technician
	if who == "" {
		who = technician
	}
	switch {
	case in.Screen != nil:
		a.serveScreen(conn, r, in, technician)
	case in.Chat != nil:
		a.note(wire.ActivityChat, noteChat(who))
		a.serveChat(conn, r)
	case in.Files != nil:
		a.serveFiles(conn, r, logon, *in.Files, who)
	default:
		a.serveCommand(conn, r, logon, *in.Command, who)
	}
}

// answer serves a signed-in stream's requests until it closes.
func (a *App) answer(conn net.Conn, r *bufio.Reader, who string) {
	enc := json.NewEncoder(conn)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		var req wire.Request
		var out wire.Reply
		switch {
		case json.Unmarshal(line, &req) != nil:
			out.Error = "The PC could not read the request."
		case req.Op == wire.OpSystem:
			info, err := a.Sys.SystemInfo()
			if err != nil {
				a.Log.Printf("system information: %v", err)
				out.Error = "The PC could not read its system information: " + err.Error()
			} else {
				out.System = &info
				a.note(wire.ActivitySystem, noteSystem(who))
			}
		default:
			out.Error = "This version of the Support Session app does not know the request " + req.Op + "."
		}
		if enc.Encode(out) != nil {
			return
		}
	}
}
