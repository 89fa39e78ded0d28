package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/emersion/go-smtp"

	"adhocstation/core/refusal"
)

// Stage is the step of a delivery that failed; it decides the advice given.
type Stage string

const (
	StageSetup     Stage = "setup"     // the settings themselves cannot work
	StageConnect   Stage = "connect"   // TCP connection or the server's greeting
	StageTLS       Stage = "tls"       // STARTTLS or the TLS handshake
	StageAuth      Stage = "auth"      // signing in
	StageSender    Stage = "sender"    // MAIL FROM
	StageRecipient Stage = "recipient" // RCPT TO
	StageData      Stage = "data"      // the message itself
)

// Error is a failed delivery, worded for a technician. Temporary errors
// (4xx replies, network trouble) are worth retrying; the others need a
// person to change something first. Whoever retries says so: the text does
// not promise it.
type Error struct {
	Stage     Stage
	Server    string // host:port
	Temporary bool
	Code      int    // the SMTP reply code, 0 when there was none
	Reply     string // the server's reply text, as sent
	OAuth     bool   // signing in used an OAuth 2.0 token, not a password
	Err       error
}

func (e *Error) Unwrap() error { return e.Err }

// A failed delivery is worded for a technician: a refusal like core's.
var _ refusal.Refusal = (*Error)(nil)

// RefusalCode marks the error as one a technician may read as it is
// (refusal.Refusal): "mail_" and the stage.
func (e *Error) RefusalCode() string { return "mail_" + string(e.Stage) }

func (e *Error) Error() string {
	var b strings.Builder
	switch e.Stage {
	case StageSetup:
		b.WriteString(e.Err.Error())
	case StageConnect:
		fmt.Fprintf(&b, "Cannot reach the mail server %s: %s", e.Server, e.detail())
		b.WriteString(". Check the host name and port in Settings and that this computer can reach the server.")
	case StageTLS:
		fmt.Fprintf(&b, "The secure connection to %s failed: %s", e.Server, e.detail())
		b.WriteString(". Check the security mode (STARTTLS on port 587, TLS on 465); for an in-house certificate add its CA file in Settings.")
	case StageAuth:
		fmt.Fprintf(&b, "The mail server %s refused to sign in: %s", e.Server, e.detail())
		switch {
		case e.Temporary:
			b.WriteString(".")
		case e.BasicAuthDisabled():
			b.WriteString(". Microsoft 365 no longer accepts a password for sending mail: in Settings choose the sign-in method " +
				"\"Microsoft 365 OAuth\" and enter the tenant, client ID and client secret of an app registration allowed to send as this mailbox.")
		case e.OAuth:
			b.WriteString(". The token was issued, but the mail server did not accept it for this mailbox: check that the user name is " +
				"the mailbox to send as, and that the app (or service account) is allowed to send as it.")
		default:
			b.WriteString(". Check the SMTP user name and password in Settings.")
		}
	case StageSender:
		fmt.Fprintf(&b, "The mail server refused the sender address: %s. Check the sender address in Settings; the account may not be allowed to send as it.", e.detail())
	case StageRecipient:
		fmt.Fprintf(&b, "The mail server refused the recipient: %s. Check the end user's email address.", e.detail())
	default:
		fmt.Fprintf(&b, "The mail server did not accept the message: %s.", e.detail())
	}
	return b.String()
}

// BasicAuthDisabled reports Exchange Online's answer to a password once
// basic authentication for SMTP AUTH is off: 5.7.30 (usually with 550 or 535).
func (e *Error) BasicAuthDisabled() bool {
	return e.Stage == StageAuth && !e.OAuth && e.Code/100 == 5 && strings.Contains(e.Reply, "5.7.30")
}

// detail is the server's reply when there is one, else the underlying error.
func (e *Error) detail() string {
	if e.Code != 0 {
		return strings.TrimRight(fmt.Sprintf("%d %s", e.Code, e.Reply), ". ")
	}
	return plainNetError(e.Err)
}

// plainNetError says what common network failures mean.
func plainNetError(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case err == nil:
		return "unknown error"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.Is(err, syscall.ECONNRESET):
		return "the server closed the connection before answering"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (is the server running, and is the port right?)"
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "the host name " + dnsErr.Name + " is unknown"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "the server did not answer in time"
	}
	return err.Error()
}

// IsTemporary reports whether err is worth retrying later. Errors that are
// not an *Error (a custom sender's) count as temporary: retrying is safer
// than silently dropping an invitation.
func IsTemporary(err error) bool {
	var me *Error
	if errors.As(err, &me) {
		return me.Temporary
	}
	return err != nil
}

// classify turns what go-smtp or the network returned at stage into an
// *Error: 4xx and network trouble are temporary, 5xx are permanent.
func classify(stage Stage, server string, err error) *Error {
	var me *Error
	if errors.As(err, &me) {
		return me
	}
	e := &Error{Stage: stage, Server: server, Err: err, Temporary: true}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		e.Code, e.Reply, e.Temporary = se.Code, se.Message, se.Code/100 == 4
		if se.EnhancedCode != smtp.NoEnhancedCode && se.EnhancedCode != (smtp.EnhancedCode{}) {
			e.Reply = fmt.Sprintf("%d.%d.%d %s", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], se.Message)
		}
		return e
	}
	if isTLSError(err) {
		// A certificate that does not verify will not verify next time either.
		e.Stage, e.Temporary = StageTLS, false
	}
	return e
}

func isTLSError(err error) bool {
	var verr *tls.CertificateVerificationError
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	var cerr x509.CertificateInvalidError
	var rerr tls.RecordHeaderError
	var aerr tls.AlertError
	return errors.As(err, &verr) || errors.As(err, &uerr) || errors.As(err, &herr) ||
		errors.As(err, &cerr) || errors.As(err, &rerr) || errors.As(err, &aerr)
}

func setupError(format string, args ...any) *Error {
	return &Error{Stage: StageSetup, Err: fmt.Errorf(format, args...)}
}
