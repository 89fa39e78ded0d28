package mail_test

import (
	"strings"
	"testing"

	"adhocstation/core/mail"
	"adhocstation/core/mail/mailtest"
)

const goodToken = "ya29.good-token"

func tokenServer(t *testing.T, offer ...string) (*mailtest.Server, mail.Server) {
	s := mailtest.Start(t, mailtest.StartTLS)
	s.AcceptTokens(func(tok string) bool { return tok == goodToken })
	if offer != nil {
		s.OfferOnly(offer...)
	}
	srv := serverFor(s, "")
	srv.Token = goodToken
	return s, srv
}

func TestSendWithToken(t *testing.T) {
	for _, tc := range []struct {
		name  string
		offer []string
		want  string
	}{
		{"BothListedTakesOAUTHBEARER", nil, "OAUTHBEARER"},
		{"OnlyXOAUTH2", []string{"XOAUTH2", "PLAIN"}, "XOAUTH2"},
		{"OnlyOAUTHBEARER", []string{"OAUTHBEARER"}, "OAUTHBEARER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, srv := tokenServer(t, tc.offer...)
			if err := mail.Send(t.Context(), srv, "station@example.com", []string{"anna@example.com"}, testMsg); err != nil {
				t.Fatal(err)
			}
			if m := s.Wait(1)[0]; m.AuthMech != tc.want || m.AuthUser != mailtest.Username {
				t.Fatalf("signed in with %q as %q", m.AuthMech, m.AuthUser)
			}
		})
	}
}

// A refused token is a permanent sign-in failure worded for OAuth, with
// either mechanism.
func TestSendWithRefusedToken(t *testing.T) {
	for _, mech := range []string{"XOAUTH2", "OAUTHBEARER"} {
		t.Run(mech, func(t *testing.T) {
			_, srv := tokenServer(t, mech)
			srv.Token = "expired"
			me := asMailError(t, mail.Send(t.Context(), srv, "station@example.com", []string{"anna@example.com"}, testMsg))
			if me.Stage != mail.StageAuth || me.Temporary || !me.OAuth || !strings.Contains(me.Error(), "did not accept it for this mailbox") {
				t.Fatalf("%+v: %v", me, me)
			}
		})
	}
}

func TestSendWithTokenToAServerWithoutOAuth(t *testing.T) {
	s := mailtest.Start(t, mailtest.StartTLS)
	srv := serverFor(s, "")
	srv.Token = goodToken
	me := asMailError(t, mail.Send(t.Context(), srv, "station@example.com", []string{"anna@example.com"}, testMsg))
	if me.Stage != mail.StageAuth || !strings.Contains(me.Error(), "needs XOAUTH2 or OAUTHBEARER") {
		t.Fatalf("%v", me)
	}
	if s.AuthAttempts() != 0 {
		t.Fatal("the token was offered to a mechanism that cannot carry it")
	}
}
