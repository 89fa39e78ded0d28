package mail

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"
)

// Message is one email before MIME encoding.
type Message struct {
	FromName    string // display name, e.g. the technician's
	FromAddress string // the station's sender address
	ReplyTo     string // where answers go (the technician); empty: none
	ReplyToName string
	To          string
	Subject     string
	Text        string // the plain-text part
	HTML        string // the HTML part; empty sends plain text only
	Date        time.Time
}

// Compose encodes m as a MIME message: multipart/alternative with the text
// and HTML parts, and a Message-ID under the sender's own domain (not this
// computer's name, which spam filters distrust).
func Compose(m Message) ([]byte, error) {
	var h gomail.Header
	h.SetAddressList("From", []*gomail.Address{{Name: m.FromName, Address: m.FromAddress}})
	if m.ReplyTo != "" {
		h.SetAddressList("Reply-To", []*gomail.Address{{Name: m.ReplyToName, Address: m.ReplyTo}})
	}
	h.SetAddressList("To", []*gomail.Address{{Address: m.To}})
	h.SetSubject(m.Subject)
	h.SetDate(m.Date)
	if err := h.GenerateMessageIDWithHostname(Domain(m.FromAddress)); err != nil {
		return nil, err
	}
	h.Set("MIME-Version", "1.0")
	h.Set("Auto-Submitted", "auto-generated")

	var buf bytes.Buffer
	if m.HTML == "" {
		h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
		w, err := gomail.CreateSingleInlineWriter(&buf, h)
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(w, m.Text); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	w, err := gomail.CreateInlineWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	// Plain text first: clients show the last alternative they understand.
	for _, p := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		var ph gomail.InlineHeader
		ph.SetContentType(p.typ, map[string]string{"charset": "utf-8"})
		pw, err := w.CreatePart(ph)
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(pw, p.body); err != nil {
			return nil, err
		}
		if err := pw.Close(); err != nil {
			return nil, fmt.Errorf("encode the %s part: %w", p.typ, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Domain is the part of an address after the last @ ("localhost" if none).
func Domain(address string) string {
	if i := strings.LastIndexByte(address, '@'); i >= 0 && i < len(address)-1 {
		return address[i+1:]
	}
	return "localhost"
}
