package mail

import (
	"bytes"
	htmltemplate "html/template"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"adhocstation/assets"
)

// Invitation is what the invitation email says; it never holds the
// security code or the password.
type Invitation struct {
	TechnicianName  string
	TechnicianEmail string
	UserEmail       string
	Link            string
	ValidFor        time.Duration // how long the link works
	ValidUntil      time.Time
	SessionLength   time.Duration // from activation
	Recorded        bool          // the station records remote sessions
}

// Rendered is a template's output.
type Rendered struct {
	Subject string
	Text    string
	HTML    string // empty for text-only mails
}

var funcs = map[string]any{"duration": Duration, "when": When}

var (
	loadOnce  sync.Once
	textTmpls map[string]*texttemplate.Template
	htmlTmpls map[string]*htmltemplate.Template
	loadErr   error
)

// load parses the embedded templates once, each file in its own set
// because each defines its own "subject". They are part of the binary, so a
// failure here is a build mistake that every test catches.
func load() error {
	loadOnce.Do(func() {
		textTmpls = map[string]*texttemplate.Template{}
		htmlTmpls = map[string]*htmltemplate.Template{}
		for _, name := range []string{"invitation", "test"} {
			t, err := texttemplate.New(name+".txt.tmpl").Funcs(funcs).ParseFS(assets.FS, "email/"+name+".txt.tmpl")
			if err != nil {
				loadErr = err
				return
			}
			textTmpls[name] = t
		}
		h, err := htmltemplate.New("invitation.html.tmpl").Funcs(funcs).ParseFS(assets.FS, "email/invitation.html.tmpl")
		if err != nil {
			loadErr = err
			return
		}
		htmlTmpls["invitation"] = h
	})
	return loadErr
}

// RenderInvitation fills the invitation templates.
func RenderInvitation(inv Invitation) (Rendered, error) { return render("invitation", inv) }

// TestMail is what the "Send test email" message says.
type TestMail struct {
	SentAt time.Time
	Server string
}

// RenderTest fills the test-email template (plain text only).
func RenderTest(t TestMail) (Rendered, error) { return render("test", t) }

func render(name string, data any) (Rendered, error) {
	if err := load(); err != nil {
		return Rendered{}, err
	}
	var r Rendered
	var b bytes.Buffer
	t := textTmpls[name]
	if err := t.Execute(&b, data); err != nil {
		return r, err
	}
	r.Text = strings.TrimSpace(b.String()) + "\n"
	b.Reset()
	if err := t.ExecuteTemplate(&b, "subject", data); err != nil {
		return r, err
	}
	r.Subject = strings.TrimSpace(b.String())
	if h := htmlTmpls[name]; h != nil {
		b.Reset()
		if err := h.Execute(&b, data); err != nil {
			return r, err
		}
		r.HTML = b.String()
	}
	return r, nil
}

// Duration says d the way people do: "1 hour", "90 minutes", "24 hours".
func Duration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int(d/time.Minute), "minute")
	default:
		return plural(int(d/time.Second), "second")
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// When formats t unambiguously for readers in any time zone.
func When(t time.Time) string { return t.UTC().Format("Monday 2 January 2006, 15:04 UTC") }
