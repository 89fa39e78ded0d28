package mail_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"adhocstation/core/mail"
	"adhocstation/core/mail/mailtest"
)

func serverFor(s *mailtest.Server, password string) mail.Server {
	return mail.Server{Host: s.Host, Port: s.Port, Security: mail.Security(s.Mode), Username: mailtest.Username,
		Password: password, CAFile: s.CAFile}
}

var testMsg = []byte("From: station@example.com\r\nTo: anna@example.com\r\nSubject: hi\r\n\r\nhello\r\n")

func asMailError(t *testing.T, err error) *mail.Error {
	t.Helper()
	var me *mail.Error
	if !errors.As(err, &me) {
		t.Fatalf("want a *mail.Error, got %T %v", err, err)
	}
	return me
}

func TestSend(t *testing.T) {
	t.Run("STARTTLS+PLAIN", func(t *testing.T) {
		s := mailtest.Start(t, mailtest.StartTLS)
		if err := mail.Send(t.Context(), serverFor(s, mailtest.Password), "station@example.com", []string{"anna@example.com"}, testMsg); err != nil {
			t.Fatal(err)
		}
		m := s.Wait(1)[0]
		if !m.TLS || m.AuthUser != mailtest.Username || m.AuthMech != "PLAIN" || m.To[0] != "anna@example.com" {
			t.Fatalf("received %+v", m)
		}
	})
	t.Run("TLS+LOGIN", func(t *testing.T) {
		s := mailtest.Start(t, mailtest.TLS)
		s.OfferOnly("LOGIN")
		if err := mail.Send(t.Context(), serverFor(s, mailtest.Password), "station@example.com", []string{"anna@example.com"}, testMsg); err != nil {
			t.Fatal(err)
		}
		if m := s.Wait(1)[0]; !m.TLS || m.AuthMech != "LOGIN" || m.AuthUser != mailtest.Username {
			t.Fatalf("received %+v", m)
		}
	})
	t.Run("PlainToLoopbackWithoutAuth", func(t *testing.T) {
		s := mailtest.Start(t, mailtest.Plain)
		srv := serverFor(s, "")
		srv.Username = ""
		if err := mail.Send(t.Context(), srv, "station@example.com", []string{"anna@example.com"}, testMsg); err != nil {
			t.Fatal(err)
		}
		if m := s.Wait(1)[0]; m.TLS || m.AuthUser != "" {
			t.Fatalf("received %+v", m)
		}
	})
}

func TestSendRefusals(t *testing.T) {
	t.Run("WrongPassword", func(t *testing.T) {
		s := mailtest.Start(t, mailtest.StartTLS)
		err := mail.Send(t.Context(), serverFor(s, "wrong"), "station@example.com", []string{"anna@example.com"}, testMsg)
		me := asMailError(t, err)
		if me.Stage != mail.StageAuth || me.Temporary || me.Code != 535 || mail.IsTemporary(err) {
			t.Fatalf("got %+v", me)
		}
		for _, want := range []string{"refused to sign in", "535", "Authentication credentials invalid", "user name and password"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q lacks %q", err, want)
			}
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Errorf("the error repeats the password: %q", err)
		}
	})
	t.Run("UntrustedCertificate", func(t *testing.T) {
		s := mailtest.Start(t, mailtest.StartTLS)
		srv := serverFor(s, mailtest.Password)
		srv.CAFile = ""
		err := mail.Send(t.Context(), srv, "station@example.com", []string{"anna@example.com"}, testMsg)
		me := asMailError(t, err)
		if me.Stage != mail.StageTLS || me.Temporary || !strings.Contains(err.Error(), "secure connection") ||
			!strings.Contains(err.Error(), "certificate") || s.AuthAttempts() != 0 {
			t.Fatalf("got %+v: %v (auth attempts %d)", me, err, s.AuthAttempts())
		}
	})
	t.Run("TLSModeAgainstSTARTTLSPort", func(t *testing.T) {
		s := mailtest.Start(t, mailtest.StartTLS)
		srv := serverFor(s, mailtest.Password)
		srv.Security = mail.TLS
		me := asMailError(t, mail.Send(t.Context(), srv, "station@example.com", []string{"anna@example.com"}, testMsg))
		if me.Stage != mail.StageTLS || !strings.Contains(me.Error(), "STARTTLS on port 587") {
			t.Fatalf("got %+v: %v", me, me)
		}
	})
	t.Run("NoSTARTTLSOffered", func(t *testing.T) {
		s := mailtest.Start(t, mailtest.Plain)
		srv := serverFor(s, mailtest.Password)
		srv.Security = mail.StartTLS
		me := asMailError(t, mail.Send(t.Context(), srv, "station@example.com", []string{"anna@example.com"}, testMsg))
		if me.Stage != mail.StageTLS || me.Temporary || !strings.Contains(me.Error(), "does not offer STARTTLS") || s.AuthAttempts() != 0 {
			t.Fatalf("got %+v: %v", me, me)
		}
	})
	t.Run("ServerDown", func(t *testing.T) {
		s := mailtest.Start(t, mailtest.StartTLS)
		s.Stop()
		err := mail.Send(t.Context(), serverFor(s, mailtest.Password), "station@example.com", []string{"anna@example.com"}, testMsg)
		me := asMailError(t, err)
		if me.Stage != mail.StageConnect || !me.Temporary || !strings.Contains(err.Error(), "Cannot reach the mail server") {
			t.Fatalf("got %+v: %v", me, err)
		}
	})
	t.Run("RecipientRefused", func(t *testing.T) {
		s := mailtest.Start(t, mailtest.StartTLS)
		s.RefuseRecipient("nobody@example.com", "Mailbox unavailable")
		err := mail.Send(t.Context(), serverFor(s, mailtest.Password), "station@example.com", []string{"nobody@example.com"}, testMsg)
		me := asMailError(t, err)
		if me.Stage != mail.StageRecipient || me.Temporary || me.Code != 550 ||
			!strings.Contains(err.Error(), "550 5.1.1 Mailbox unavailable") {
			t.Fatalf("got %+v: %v", me, err)
		}
		if len(s.Messages()) != 0 {
			t.Fatal("a refused message was stored")
		}
	})
	t.Run("RecipientDeferred", func(t *testing.T) {
		s := mailtest.Start(t, mailtest.StartTLS)
		s.DeferRecipient("busy@example.com", "Mailbox busy, try later")
		err := mail.Send(t.Context(), serverFor(s, mailtest.Password), "station@example.com", []string{"busy@example.com"}, testMsg)
		me := asMailError(t, err)
		if me.Stage != mail.StageRecipient || !me.Temporary || me.Code != 451 || !mail.IsTemporary(err) {
			t.Fatalf("got %+v: %v", me, err)
		}
	})
	t.Run("PlainToNonLoopbackHost", func(t *testing.T) {
		ip := nonLoopbackIP(t)
		s := mailtest.StartOn(t, mailtest.Plain, ip)
		err := mail.Send(t.Context(), serverFor(s, mailtest.Password), "station@example.com", []string{"anna@example.com"}, testMsg)
		me := asMailError(t, err)
		if me.Stage != mail.StageSetup || me.Temporary || !strings.Contains(err.Error(), "Unencrypted SMTP is allowed only to this computer") {
			t.Fatalf("got %+v: %v", me, err)
		}
		if s.AuthAttempts() != 0 || len(s.Messages()) != 0 {
			t.Fatal("the client talked to the server anyway")
		}
	})
	t.Run("AuthOverUnencryptedNonLoopbackConnection", func(t *testing.T) {
		// "localhost" that leads elsewhere: the client checks the peer it is
		// actually connected to before sending the password.
		ip := nonLoopbackIP(t)
		s := mailtest.StartOn(t, mailtest.Plain, ip)
		srv := serverFor(s, mailtest.Password)
		srv.Host = "localhost"
		srv.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, s.Addr())
		}
		err := mail.Send(t.Context(), srv, "station@example.com", []string{"anna@example.com"}, testMsg)
		me := asMailError(t, err)
		if me.Stage != mail.StageAuth || me.Temporary || !strings.Contains(err.Error(), "not encrypted") {
			t.Fatalf("got %+v: %v", me, err)
		}
		if s.AuthAttempts() != 0 {
			t.Fatal("the client sent AUTH over an unencrypted connection")
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		s := mailtest.Start(t, mailtest.StartTLS)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := mail.Send(ctx, serverFor(s, mailtest.Password), "a@example.com", []string{"b@example.com"}, testMsg); err == nil {
			t.Fatal("a cancelled send succeeded")
		}
	})
}

// nonLoopbackIP is this machine's own network address, to reach a real
// server over a non-loopback connection.
func nonLoopbackIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	t.Skip("this machine has no non-loopback IPv4 address")
	return ""
}

// TestErrorWording keeps every message a full sentence with advice.
func TestErrorWording(t *testing.T) {
	for _, e := range []*mail.Error{
		{Stage: mail.StageConnect, Server: "smtp.example.com:587", Temporary: true, Err: errors.New("dial tcp: connection refused")},
		{Stage: mail.StageTLS, Server: "smtp.example.com:587", Err: errors.New("x509: certificate signed by unknown authority")},
		{Stage: mail.StageAuth, Server: "smtp.example.com:587", Code: 535, Reply: "5.7.8 Bad credentials."},
		{Stage: mail.StageAuth, Server: "smtp.example.com:587", Code: 454, Reply: "4.7.0 Try later", Temporary: true},
		{Stage: mail.StageSender, Code: 553, Reply: "5.7.1 Not your address"},
		{Stage: mail.StageRecipient, Code: 550, Reply: "5.1.1 No such user"},
		{Stage: mail.StageData, Temporary: true, Err: io.EOF},
	} {
		msg := e.Error()
		t.Log(msg)
		if !strings.HasSuffix(msg, ".") || strings.Contains(msg, "..") || strings.Contains(msg, ": .") {
			t.Errorf("not a clean sentence: %q", msg)
		}
		if e.Temporary != mail.IsTemporary(e) {
			t.Errorf("IsTemporary disagrees: %q", msg)
		}
	}
}
