package mail_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"adhocstation/core/mail"

	gomail "github.com/emersion/go-message/mail"
)

// Names are the technician's own words: non-ASCII survives the headers,
// and markup is escaped in the HTML part.
func TestComposeNamesSafely(t *testing.T) {
	name := `Jürgen "JJ" <b>Müller</b> & Co`
	r, err := mail.RenderInvitation(mail.Invitation{TechnicianName: name, TechnicianEmail: "jm@example.de",
		UserEmail: "anna@example.com", Link: "https://support.example.de:8443/join/tok", ValidFor: 90 * time.Minute,
		ValidUntil: time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC), SessionLength: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.HTML, "<b>Müller</b>") || !strings.Contains(r.HTML, "&lt;b&gt;Müller&lt;/b&gt;") {
		t.Error("the name's markup reached the HTML part unescaped")
	}
	if !strings.Contains(r.Text, "90 minutes, until Tuesday 24 November 2026, 10:30 UTC") {
		t.Errorf("validity wording: %s", r.Text)
	}
	raw, err := mail.Compose(mail.Message{FromName: name, FromAddress: "support@example.de", ReplyTo: "jm@example.de",
		ReplyToName: name, To: "anna@example.com", Subject: r.Subject, Text: r.Text, HTML: r.HTML, Date: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(raw[:bytes.Index(raw, []byte("\r\n\r\n"))], []byte("\r\n")) {
		for _, c := range line {
			if c >= 0x80 {
				t.Fatalf("raw 8-bit byte in header line %q", line)
			}
		}
	}
	rd, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	from, err := rd.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != name {
		t.Fatalf("From = %v, %v", from, err)
	}
	if subject, _ := rd.Header.Subject(); subject != name+" asks for remote access to your PC" {
		t.Fatalf("Subject = %q", subject)
	}
	p, err := rd.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(p.Body)
	if !bytes.Contains(text, []byte("https://support.example.de:8443/join/tok")) {
		t.Fatal("the decoded text part lost the link")
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "1 hour", 24 * time.Hour: "24 hours",
		90 * time.Minute: "90 minutes", time.Minute: "1 minute", 30 * time.Second: "30 seconds"} {
		if got := mail.Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}
