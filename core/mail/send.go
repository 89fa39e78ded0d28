// Package mail composes the station's emails with go-message and delivers
// them over SMTP with go-smtp, on a connection it dials and secures itself
// so that connection, TLS and sign-in failures are each reported as what
// they are.
package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Security is how the connection to the server is protected.
type Security string

const (
	StartTLS Security = "starttls" // upgrade with STARTTLS, usually port 587
	TLS      Security = "tls"      // TLS from the first byte, usually port 465
	Plain    Security = "none"     // no encryption: only to this computer
)

// Server is where and how to deliver.
type Server struct {
	Host     string
	Port     int
	Security Security
	Username string // empty: do not sign in; with Token, the mailbox
	Password string
	// Token is an OAuth 2.0 access token: when set the station signs in
	// with OAUTHBEARER or XOAUTH2 instead of a password.
	Token  string
	CAFile string // one extra CA certificate (PEM) to trust besides the system's
	// Timeout bounds each SMTP command; 0 means DefaultTimeout. The whole
	// delivery is bounded by four times that.
	Timeout time.Duration
	// DialContext replaces the network dialer (tests reach a named host on
	// 127.0.0.1 with it); nil dials normally.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// DefaultTimeout replaces go-smtp's 5-minute command timeout: a technician
// waiting on "Send test email" should hear back within seconds.
const DefaultTimeout = 15 * time.Second

func (s Server) addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Send delivers msg from "from" to every address in to. It returns an
// *Error saying which step failed and whether retrying can help.
func Send(ctx context.Context, srv Server, from string, to []string, msg []byte) error {
	addr := srv.addr()
	timeout := srv.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if srv.Security == Plain && !isLoopbackHost(srv.Host) {
		return setupError("Unencrypted SMTP is allowed only to this computer, not to %s. Choose STARTTLS or TLS in Settings.", srv.Host)
	}
	tlsCfg, err := srv.tlsConfig()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 4*timeout)
	defer cancel()

	dial := srv.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: timeout}).DialContext
	}
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return classify(StageConnect, addr, err)
	}
	// go-smtp has no context support: closing the connection is how a
	// cancelled or overdue delivery stops.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()

	c, err := open(ctx, srv, conn, tlsCfg, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := signIn(c, srv, conn); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return classify(StageSender, addr, err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return classify(StageRecipient, addr, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return classify(StageData, addr, err)
	}
	if _, err := w.Write(msg); err != nil {
		return classify(StageData, addr, err)
	}
	if err := w.Close(); err != nil {
		return classify(StageData, addr, err)
	}
	// The message is accepted; a failing QUIT changes nothing.
	c.Quit()
	return nil
}

// open greets the server and secures the connection as configured.
func open(ctx context.Context, srv Server, conn net.Conn, tlsCfg *tls.Config, timeout time.Duration) (*smtp.Client, error) {
	addr := srv.addr()
	name := helloName(conn)
	switch srv.Security {
	case TLS:
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			e := classify(StageTLS, addr, err)
			e.Stage = StageTLS
			return nil, e
		}
		conn = tc
	case StartTLS:
		// NewClientStartTLS greets with go-smtp's default timeout; the
		// context above still bounds it.
		c, err := smtp.NewClientStartTLS(conn, tlsCfg)
		if err != nil {
			return nil, startTLSError(addr, err)
		}
		c.CommandTimeout, c.SubmissionTimeout = timeout, 2*timeout
		// The EHLO after STARTTLS is the first traffic over TLS: a bad
		// certificate shows up here.
		if err := c.Hello(name); err != nil {
			e := classify(StageTLS, addr, err)
			e.Stage = StageTLS
			return nil, e
		}
		return c, nil
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout, c.SubmissionTimeout = timeout, 2*timeout
	if err := c.Hello(name); err != nil {
		return nil, classify(StageConnect, addr, err)
	}
	return c, nil
}

// startTLSError tells the greeting's failures (connect stage) from the
// STARTTLS command's: go-smtp returns both from one call, but a refused
// STARTTLS is 454 or the extension's absence.
func startTLSError(addr string, err error) *Error {
	var se *smtp.SMTPError
	switch {
	case err.Error() == "smtp: server doesn't support STARTTLS":
		return &Error{Stage: StageTLS, Server: addr, Err: errors.New("the server does not offer STARTTLS; choose TLS (port 465), or ask for STARTTLS to be enabled")}
	case errors.As(err, &se) && se.Code == 454:
		e := classify(StageTLS, addr, err)
		e.Stage = StageTLS
		return e
	}
	return classify(StageConnect, addr, err)
}

// signIn authenticates with PLAIN or LOGIN, or with an OAuth 2.0 token,
// never over an unencrypted connection to anything but this computer.
func signIn(c *smtp.Client, srv Server, conn net.Conn) error {
	if srv.Username == "" {
		return nil
	}
	addr := srv.addr()
	oauth := srv.Token != ""
	if _, encrypted := c.TLSConnectionState(); !encrypted && !(isLoopbackHost(srv.Host) && isLoopbackConn(conn)) {
		return &Error{Stage: StageAuth, Server: addr, OAuth: oauth, Err: errors.New("the connection is not encrypted, so the station will not send the password over it; choose STARTTLS or TLS")}
	}
	if ok, _ := c.Extension("AUTH"); !ok {
		return &Error{Stage: StageAuth, Server: addr, OAuth: oauth, Err: errors.New("the server does not offer sign-in (no AUTH); clear the user name in Settings if it needs none")}
	}
	client, err := chooseMechanism(c, srv)
	if err != nil {
		return &Error{Stage: StageAuth, Server: addr, OAuth: oauth, Err: err}
	}
	if err := c.Auth(client); err != nil {
		e := classify(StageAuth, addr, err)
		e.OAuth = oauth
		var bearerErr *sasl.OAuthBearerError
		if errors.As(err, &bearerErr) {
			// The server's refusal of the token, not a network hiccup.
			e.Temporary = false
		}
		return e
	}
	return nil
}

// chooseMechanism takes what the server's AUTH line lists: for a token
// OAUTHBEARER (the standard) else XOAUTH2; for a password PLAIN else LOGIN.
func chooseMechanism(c *smtp.Client, srv Server) (sasl.Client, error) {
	_, mechs := c.Extension("AUTH")
	if srv.Token != "" {
		switch {
		case c.SupportsAuth(sasl.OAuthBearer):
			return sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: srv.Username, Token: srv.Token,
				Host: srv.Host, Port: srv.Port}), nil
		case c.SupportsAuth(XOAuth2):
			return NewXOAuth2Client(srv.Username, srv.Token), nil
		}
		return nil, errors.New("the server offers only " + mechs + ", and OAuth sign-in needs XOAUTH2 or OAUTHBEARER; check the server name, or sign in with a password")
	}
	switch {
	case c.SupportsAuth(sasl.Plain):
		return sasl.NewPlainClient("", srv.Username, srv.Password), nil
	case c.SupportsAuth(sasl.Login):
		return sasl.NewLoginClient(srv.Username, srv.Password), nil
	}
	return nil, errors.New("the server offers only " + mechs + ", and the station signs in with PLAIN or LOGIN")
}

// tlsConfig verifies the server's certificate against the system's roots
// plus the optional extra CA file.
func (s Server) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	if s.CAFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, setupError("The extra CA certificate file cannot be read: %v. Choose the file again in Settings.", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, setupError("The extra CA certificate file %s holds no PEM certificate. Choose a .pem or .crt file in Settings.", s.CAFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// helloName is the address literal of our end of the connection: always
// valid in EHLO, unlike a desktop's often unqualified host name.
func helloName(conn net.Conn) string {
	if a, ok := conn.LocalAddr().(*net.TCPAddr); ok {
		if a.IP.To4() != nil {
			return "[" + a.IP.String() + "]"
		}
		return "[IPv6:" + a.IP.String() + "]"
	}
	return "localhost"
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isLoopbackConn(conn net.Conn) bool {
	a, ok := conn.RemoteAddr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}
