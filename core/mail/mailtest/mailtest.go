// Package mailtest runs a real go-smtp server on 127.0.0.1 for tests: a
// self-signed certificate, AUTH PLAIN and LOGIN, STARTTLS or implicit TLS,
// every accepted message recorded, recipients that can be refused with a
// 5xx reply, and a Stop/Start that keeps the port so a client sees the
// same server go down and come back.
package mailtest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mode is how clients must connect; the values match core's settings.
type Mode string

const (
	StartTLS Mode = "starttls"
	TLS      Mode = "tls"
	Plain    Mode = "none"
)

// Username and Password are the account the server accepts.
const (
	Username = "station@example.com"
	Password = "smtp-Secret-91"
)

// Message is one accepted message.
type Message struct {
	From     string
	To       []string
	Data     []byte
	AuthUser string // "" when the client did not sign in
	AuthMech string // PLAIN, LOGIN, OAUTHBEARER or XOAUTH2
	TLS      bool
	At       time.Time // when the server accepted it
}

// Server is a running (or stopped) test SMTP server.
type Server struct {
	Host   string // "127.0.0.1"
	Port   int
	Mode   Mode
	CAFile string // PEM of the self-signed certificate, to trust as the extra CA

	tb      testing.TB
	cert    tls.Certificate
	mu      sync.Mutex
	srv     *smtp.Server
	ln      net.Listener
	msgs    []Message
	refused map[string]*smtp.SMTPError // recipient → the reply refusing it
	auths   int
	mechs   []string
	drops   int           // DATA commands still to answer by hanging up
	stall   chan struct{} // closed when the next DATA has been read and is held
	release chan struct{} // closing it lets a held DATA fail
	arrived chan struct{}
	accept  func()                  // runs once a message is accepted, before the reply
	tokenOK func(token string) bool // nil: no OAuth sign-in
	noBasic bool                    // PLAIN and LOGIN answer 5.7.30
}

// Start runs a server in mode on a free 127.0.0.1 port until the test ends.
func Start(tb testing.TB, mode Mode) *Server {
	tb.Helper()
	return StartOn(tb, mode, "127.0.0.1")
}

// StartOn is Start on another local address (a test that needs a
// non-loopback server listens on this machine's own network address).
func StartOn(tb testing.TB, mode Mode, ip string) *Server {
	tb.Helper()
	cert, pemBytes, err := selfSigned()
	if err != nil {
		tb.Fatalf("mailtest certificate: %v", err)
	}
	caFile := filepath.Join(tb.TempDir(), "mailtest-ca.pem")
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		tb.Fatal(err)
	}
	s := &Server{Host: ip, Mode: mode, CAFile: caFile, tb: tb, cert: cert,
		refused: map[string]*smtp.SMTPError{}, arrived: make(chan struct{}, 1)}
	if err := s.listen(net.JoinHostPort(ip, "0")); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Release(); s.Stop() })
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

func (s *Server) listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("mailtest listen on %s: %w", addr, err)
	}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{s.cert}}
	srv := smtp.NewServer(&backend{s})
	srv.Domain = "mailtest.localhost"
	// Clients that hang up are part of the tests; do not print them.
	srv.ErrorLog = quiet{}
	// Signing in without TLS is offered only in Plain mode, on loopback.
	srv.AllowInsecureAuth = s.Mode == Plain
	if s.Mode == StartTLS {
		srv.TLSConfig = tlsCfg
	}
	if s.Mode == TLS {
		l = tls.NewListener(l, tlsCfg)
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	s.mu.Lock()
	s.srv, s.ln = srv, l
	s.mu.Unlock()
	go srv.Serve(l)
	return nil
}

// Stop closes the listener and every connection; Start brings it back.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// Closing the listener ourselves: Serve may not have registered it
		// with the server yet.
		ln.Close()
		srv.Close()
	}
}

// Restart listens again on the same port after Stop. It fails when
// another program took the port meanwhile: a test that must not race
// starts over on a new port.
func (s *Server) Restart() error {
	return s.listen(s.Addr())
}

// OfferOnly limits the AUTH mechanisms advertised (default PLAIN and LOGIN).
func (s *Server) OfferOnly(mechs ...string) {
	s.mu.Lock()
	s.mechs = mechs
	s.mu.Unlock()
}

// HangUpDuringData makes the next n messages fail the way a server that
// dies mid-way does: the message is read, then the connection closes
// without the final reply, so nothing was accepted.
func (s *Server) HangUpDuringData(n int) {
	s.mu.Lock()
	s.drops = n
	s.mu.Unlock()
}

// StallNextData holds the next message after reading it, without
// replying, until Release; it is then refused, so nothing is accepted. The
// returned channel closes once a message is held: the sender is mid-way.
func (s *Server) StallNextData() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stall, s.release = make(chan struct{}), make(chan struct{})
	return s.stall
}

// Release lets a held DATA fail with 451.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.release != nil {
		close(s.release)
		s.release = nil
	}
}

// OnAccept makes f run each time a message has been accepted, before the
// server replies that it was: a test can stop the sender at the one moment
// when the message is delivered but the sender does not know it yet. nil
// removes it.
func (s *Server) OnAccept(f func()) {
	s.mu.Lock()
	s.accept = f
	s.mu.Unlock()
}

// RefuseRecipient makes RCPT TO:<addr> fail for good: 550 and reply.
func (s *Server) RefuseRecipient(addr, reply string) {
	s.refuse(addr, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: reply})
}

// DeferRecipient makes RCPT TO:<addr> fail for now: 451 and reply.
func (s *Server) DeferRecipient(addr, reply string) {
	s.refuse(addr, &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: reply})
}

// AcceptRecipient undoes RefuseRecipient and DeferRecipient.
func (s *Server) AcceptRecipient(addr string) { s.refuse(addr, nil) }

func (s *Server) refuse(addr string, e *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e == nil {
		delete(s.refused, strings.ToLower(addr))
		return
	}
	s.refused[strings.ToLower(addr)] = e
}

// Messages returns every accepted message so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// AuthAttempts counts AUTH commands received, successful or not.
func (s *Server) AuthAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

// WaitLimit bounds Wait: long enough for a loaded machine, short enough
// that a message that never comes fails the test instead of hanging it.
const WaitLimit = 10 * time.Second

// Wait blocks until at least n messages were accepted and returns them,
// failing the test after WaitLimit.
func (s *Server) Wait(n int) []Message {
	s.tb.Helper()
	deadline := time.After(WaitLimit)
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		select {
		case <-s.arrived:
		case <-deadline:
			s.tb.Fatalf("mailtest: waited %v for %d messages, have %d", WaitLimit, n, len(s.Messages()))
		}
	}
}

type backend struct{ s *Server }

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	mech string
	from string
	to   []string
}

var errAuthFailed = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}

func (ss *session) check(user, pass string) error {
	ss.s.mu.Lock()
	noBasic := ss.s.noBasic
	ss.s.mu.Unlock()
	if noBasic {
		return errBasicAuthOff
	}
	if user != Username || pass != Password {
		return errAuthFailed
	}
	ss.user = user
	return nil
}

func (ss *session) AuthMechanisms() []string {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.mechs != nil {
		return ss.s.mechs
	}
	return []string{sasl.Plain, sasl.Login}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	ss.s.mu.Lock()
	ss.s.auths++
	ss.s.mu.Unlock()
	ss.mech = mech
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return ss.check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: ss.check}, nil
	case sasl.OAuthBearer:
		return sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if ss.checkToken(o.Username, o.Token) != nil {
				return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
			}
			return nil
		}), nil
	case XOAuth2:
		return &xoauth2Server{check: ss.checkToken}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.user == "" && ss.s.Mode != Plain {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	refusal := ss.s.refused[strings.ToLower(to)]
	ss.s.mu.Unlock()
	if refusal != nil {
		return refusal
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := ss.conn.TLSConnectionState()
	ss.s.mu.Lock()
	if stall := ss.s.stall; stall != nil {
		release := ss.s.release
		ss.s.stall = nil
		ss.s.mu.Unlock()
		close(stall)
		<-release
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "held and dropped"}
	}
	if ss.s.drops > 0 {
		ss.s.drops--
		ss.s.mu.Unlock()
		ss.conn.Conn().Close()
		return errors.New("hung up")
	}
	ss.s.msgs = append(ss.s.msgs, Message{From: ss.from, To: ss.to, Data: data, AuthUser: ss.user, AuthMech: ss.mech, TLS: isTLS, At: time.Now()})
	accept := ss.s.accept
	ss.s.mu.Unlock()
	if accept != nil {
		accept()
	}
	select {
	case ss.s.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// loginServer is the server side of SASL LOGIN, which go-sasl ships only
// as a client: ask for the user name, then the password.
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if response == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		l.user, l.step = string(response), 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.check(l.user, string(response))
	}
	return nil, true, errors.New("unexpected LOGIN response")
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
func (quiet) Println(...any)        {}
