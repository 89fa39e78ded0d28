package ui

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/mail/mailtest"
)

func TestCodePanelPairing(t *testing.T) {
	e := adhocTestOpen(t)
	sub := e.st.Subscribe()
	defer sub.Close()
	p := e.prepared(t)
	deliverUntil(t, sub, e.s.onEvent, core.EventPrepared)
	if _, err := e.st.Pair(t.Context(), core.PairRequest{Token: p.sess.Token, Code: p.code,
		RemoteAddr: "192.0.2.10:5000", Facts: coretest.WindowsPC}); err != nil {
		t.Fatal(err)
	}
	deliverUntil(t, sub, e.s.onEvent, core.EventPaired)
	want := "Paired with DESKTOP-7QK2 (Windows 11 Pro, user anna) — active until Wed 09:00"
	if p.status.Text != want {
		t.Errorf("status = %q, want %q", p.status.Text, want)
	}
	if p.codeVisible() || p.display.text.Text != "" || !p.display.qr.Hidden {
		t.Error("the used code stays on screen after pairing")
	}
	if p.regenerate.Visible() || p.cancel.Text != "End session now" {
		t.Errorf("after pairing: regenerate shown %v, cancel reads %q", p.regenerate.Visible(), p.cancel.Text)
	}
	if !strings.Contains(p.countdown.Text, "24 h 00 min left") {
		t.Errorf("countdown = %q", p.countdown.Text)
	}
	e.clock.Advance(23*time.Hour + 30*time.Minute)
	e.s.onTick(e.clock.Now())
	if !strings.Contains(p.countdown.Text, "30 min 00 s left") {
		t.Errorf("countdown after 23.5 h = %q", p.countdown.Text)
	}
	test.Tap(p.leave) // no code on screen: no question asked
	if e.s.panel != nil {
		t.Error("leaving a paired session's panel asked for confirmation or failed")
	}
}

func TestCodePanelCopy(t *testing.T) {
	e := adhocTestOpen(t)
	p := e.prepared(t)
	clip := fyne.CurrentApp().Clipboard()
	test.Tap(p.copyCode)
	if clip.Content() != p.code {
		t.Errorf("clipboard = %q, want the code", clip.Content())
	}
	if p.copyCode.Icon != theme.ConfirmIcon() {
		t.Error("the copy button does not confirm the copy")
	}
	e.clock.Advance(copiedFor)
	e.s.onTick(e.clock.Now())
	if p.copyCode.Icon != theme.ContentCopyIcon() {
		t.Error("the copy button keeps its tick")
	}
	test.Tap(p.copyLink)
	if clip.Content() != p.link {
		t.Errorf("clipboard = %q, want the link", clip.Content())
	}
	clip.SetContent("")
	e.win.Canvas().(fyne.Shortcutable).TypedShortcut(&fyne.ShortcutCopy{})
	if clip.Content() != p.code {
		t.Errorf("Ctrl+C copied %q, want the code", clip.Content())
	}
}

func TestCodePanelEmailNotConfigured(t *testing.T) {
	e := adhocTestOpen(t)
	p := e.prepared(t)
	if !strings.Contains(p.emailState.Text, "SMTP is not configured") {
		t.Errorf("email state = %q", p.emailState.Text)
	}
	if !p.openMail.Visible() || p.resend.Visible() || pagesTestCopyLinks(p) != 1 {
		t.Error("not configured should offer Copy link and Open in mail program, not Resend")
	}
	test.Tap(p.openMail)
	_, err := e.st.InvitationMailto(t.Context(), p.sess.ID)
	if shown := labelShown(p.actionErr); shown != (err != nil) {
		t.Errorf("mailto error %v, message shown %v (%q)", err, shown, p.actionErr.Text)
	}
}

func TestCodePanelCountdownAndTimeout(t *testing.T) {
	e := adhocTestOpen(t)
	sub := e.st.Subscribe()
	defer sub.Close()
	p := e.prepared(t)
	if want := "The invitation is valid for 1 h 00 min more (until 10:00)."; p.countdown.Text != want {
		t.Errorf("countdown = %q, want %q", p.countdown.Text, want)
	}
	e.clock.Advance(30*time.Minute + 15*time.Second)
	e.s.onTick(e.clock.Now())
	if !strings.Contains(p.countdown.Text, "29 min 45 s more") {
		t.Errorf("countdown = %q", p.countdown.Text)
	}
	e.clock.Advance(time.Hour)
	if err := e.st.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	deliverUntil(t, sub, e.s.onEvent, core.EventCancelled)
	if !strings.Contains(p.status.Text, "cancelled (invitation timed out)") {
		t.Errorf("status = %q", p.status.Text)
	}
	if p.codeVisible() || p.cancel.Visible() || p.regenerate.Visible() {
		t.Error("a timed-out session still offers its code or actions")
	}
	if e.s.seats.Text != "5 of 5 seats free" {
		t.Errorf("seats = %q", e.s.seats.Text)
	}
}

func TestCodePanelRegenerate(t *testing.T) {
	e := adhocTestOpen(t)
	p := e.prepared(t)
	old := p.code
	test.Tap(p.regenerate)
	if p.code == old || p.display.text.Text != p.code {
		t.Fatalf("code %q → %q, shown %q", old, p.code, p.display.text.Text)
	}
	if _, err := e.st.Pair(t.Context(), core.PairRequest{Token: p.sess.Token, Code: old,
		RemoteAddr: "192.0.2.10:5000", Facts: coretest.WindowsPC}); err == nil {
		t.Fatal("the old code still pairs")
	}
	if _, err := e.st.Pair(t.Context(), core.PairRequest{Token: p.sess.Token, Code: p.code,
		RemoteAddr: "192.0.2.10:5000", Facts: coretest.WindowsPC}); err != nil {
		t.Fatalf("the new code does not pair: %v", err)
	}
}

func TestCodePanelCancel(t *testing.T) {
	e := adhocTestOpen(t)
	p := e.prepared(t)
	test.Tap(p.cancel)
	top := e.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("cancel did not ask for confirmation")
	}
	test.Tap(findButton(t, top, "Cancel session"))
	sess, err := e.st.Session(t.Context(), p.sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sess.State != core.StateCancelled {
		t.Errorf("state = %s", sess.State)
	}
	if !strings.Contains(p.status.Text, "cancelled") || p.codeVisible() {
		t.Errorf("status = %q, code visible %v", p.status.Text, p.codeVisible())
	}
	// The link died with the session: nothing may still offer it.
	if p.linkRow.Visible() {
		t.Error("after cancelling, the dead deployment link and its Copy link are still shown")
	}
	for _, b := range []*widget.Button{p.openMail, p.resend} {
		if b.Visible() {
			t.Errorf("after cancelling, %q is still offered", b.Text)
		}
	}
	if strings.Contains(p.emailState.Text, "Copy the link") {
		t.Errorf("after cancelling, the email state still says %q", p.emailState.Text)
	}
	if e.s.seats.Text != "5 of 5 seats free" {
		t.Errorf("seats = %q", e.s.seats.Text)
	}
}

func TestCodePanelLeaveAsks(t *testing.T) {
	e := adhocTestOpen(t)
	p := e.prepared(t)
	test.Tap(p.leave)
	top := e.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("leaving did not ask")
	}
	test.Tap(findButton(t, top, "Stay"))
	if e.s.panel != p || !p.codeVisible() {
		t.Fatal("Stay left the panel")
	}
	test.Tap(p.leave)
	test.Tap(findButton(t, e.win.Canvas().Overlays().Top(), "Leave"))
	if e.s.panel != nil || p.display.text.Text != "" {
		t.Error("Leave kept the panel or the code")
	}
}

// TestCodePanelGolden renders the panel with a fixed code and link in place
// of the random ones.
func TestCodePanelGolden(t *testing.T) {
	e := adhocTestOpen(t)
	p := e.prepared(t)
	const code, link = "482 193 657", "https://station.example.org:8443/join/6f1c2a9e0b7d4c3f8a5e1d2c3b4a5968"
	p.code, p.link = code, link
	p.display.setCode(code, link)
	p.linkText.SetText(link)
	test.AssertRendersToMarkup(t, "codepanel_prepared.xml", e.win.Canvas())
	test.AssertRendersToImage(t, "codepanel_prepared.png", e.win.Canvas())
	if got := decodeQR(t, p.display.qr.Image); got != link {
		t.Errorf("golden QR decodes to %q", got)
	}
}

// TestCodeDisplayThemeColours checks the QR takes the theme's colours in
// light and dark, and decodes in both.
func TestCodeDisplayThemeColours(t *testing.T) {
	a := test.NewTempApp(t)
	const link = "https://station.example.org:8443/join/abc"
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		a.Settings().SetTheme(adhocTestVariant{v})
		d := newCodeDisplay()
		d.setCode("482 193 657", link)
		img := image.NewRGBA(d.qr.Image.Bounds())
		draw.Draw(img, img.Bounds(), d.qr.Image, image.Point{}, draw.Src)
		// Dark modules on light paper in both variants, from the theme's colours.
		paper := theme.DefaultTheme().Color(theme.ColorNameBackground, v)
		if v == theme.VariantDark {
			paper = theme.DefaultTheme().Color(theme.ColorNameForeground, v)
		}
		if !sameColor(img.At(0, 0), paper) {
			t.Errorf("variant %v: QR border %v, want %v", v, img.At(0, 0), paper)
		}
		if !sameColor(d.text.Color, theme.DefaultTheme().Color(theme.ColorNameForeground, v)) {
			t.Errorf("variant %v: code colour %v", v, d.text.Color)
		}
		if got := decodeQR(t, img); got != link {
			t.Errorf("variant %v: decodes to %q", v, got)
		}
	}
}

// adhocTestVariant is the default theme held to one variant.
type adhocTestVariant struct{ v fyne.ThemeVariant }

func (a adhocTestVariant) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return theme.DefaultTheme().Color(n, a.v)
}
func (a adhocTestVariant) Font(s fyne.TextStyle) fyne.Resource { return theme.DefaultTheme().Font(s) }
func (a adhocTestVariant) Icon(n fyne.ThemeIconName) fyne.Resource {
	return theme.DefaultTheme().Icon(n)
}
func (a adhocTestVariant) Size(n fyne.ThemeSizeName) float32 { return theme.DefaultTheme().Size(n) }

func TestCodePanelEmailStates(t *testing.T) {
	e := adhocTestOpen(t)
	p := e.prepared(t)
	cases := []struct {
		name   string
		status core.EmailStatus
		want   string
		resend bool
		mail   bool
	}{
		{"EmailQueued", core.EmailStatus{State: core.EmailQueued}, "Queued", false, false},
		{"EmailSent", core.EmailStatus{State: core.EmailSent, SentAt: coretest.Start.Add(time.Minute)}, "Sent to user@example.com at 09:01.", false, false},
		{"EmailFailed", core.EmailStatus{State: core.EmailFailed, LastError: "550 5.1.1 mailbox unavailable"}, "550 5.1.1 mailbox unavailable", true, false},
		{"EmailNotConfigured", core.EmailStatus{State: core.EmailNotConfigured}, "SMTP is not configured", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p.sess.Email = c.status
			p.show()
			if !strings.Contains(p.emailState.Text, c.want) {
				t.Errorf("email state = %q, want it to contain %q", p.emailState.Text, c.want)
			}
			if p.resend.Visible() != c.resend || p.openMail.Visible() != c.mail || pagesTestCopyLinks(p) != 1 {
				t.Errorf("resend %v, open in mail %v, %d Copy link buttons", p.resend.Visible(), p.openMail.Visible(), pagesTestCopyLinks(p))
			}
		})
	}
}

func TestCodePanelRegeneratedElsewhere(t *testing.T) {
	e := adhocTestOpen(t)
	sub := e.st.Subscribe()
	defer sub.Close()
	p := e.prepared(t)
	deliverUntil(t, sub, e.s.onEvent, core.EventPrepared)
	test.Tap(p.regenerate) // our own: the new code stays
	deliverUntil(t, sub, e.s.onEvent, core.EventCodeRegenerated)
	if !p.codeVisible() {
		t.Fatal("our own regeneration hid the new code")
	}
	if _, err := e.st.RegenerateCode(t.Context(), p.sess.ID); err != nil {
		t.Fatal(err)
	}
	deliverUntil(t, sub, e.s.onEvent, core.EventCodeRegenerated)
	if p.codeVisible() || p.display.text.Text != "" {
		t.Error("a code regenerated elsewhere leaves the dead one on screen")
	}
	if !strings.Contains(p.codeWarning.Text, "no longer works") {
		t.Errorf("warning = %q", p.codeWarning.Text)
	}
}

func TestCodePanelBurnedCode(t *testing.T) {
	e := adhocTestOpen(t)
	sub := e.st.Subscribe()
	defer sub.Close()
	p := e.prepared(t)
	deliverUntil(t, sub, e.s.onEvent, core.EventPrepared)
	for range 5 { // five wrong codes burn it
		if _, err := e.st.Pair(t.Context(), core.PairRequest{Token: p.sess.Token, Code: "000 000 000",
			RemoteAddr: "192.0.2.11:5000", Facts: coretest.WindowsPC}); err == nil {
			t.Fatal("a wrong code paired")
		}
		deliverUntil(t, sub, e.s.onEvent, core.EventRefused)
	}
	if !strings.Contains(p.status.Text, "Regenerate code") || p.codeVisible() {
		t.Errorf("burned code: status %q, code visible %v", p.status.Text, p.codeVisible())
	}
	test.Tap(p.regenerate)
	if !p.codeVisible() || p.status.Text != waitingText {
		t.Errorf("after regenerating: status %q, code visible %v", p.status.Text, p.codeVisible())
	}
}

// TestCodePanelMailServerDown: with the mail server down the outbox keeps
// the invitation queued and says why; the panel shows that sentence and
// Resend, which sends it once the server is back.
func TestCodePanelMailServerDown(t *testing.T) {
	t.Setenv(core.KeyringEnv, "off")
	e := adhocTestOpen(t)
	srv := mailtest.Start(t, mailtest.StartTLS)
	set, _ := e.st.Settings(t.Context())
	set.SMTP = core.SMTPSettings{Host: srv.Host, Port: srv.Port, Security: core.SMTPStartTLS,
		Username: mailtest.Username, Sender: "station@example.com", CAFile: srv.CAFile}
	if err := e.st.SaveSettings(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetSMTPPassword(t.Context(), mailtest.Password); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	sub := e.st.Subscribe()
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.st.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	p := e.prepared(t)
	// The first try fails: the outbox records why and stays queued.
	for p.sess.Email.LastError == "" {
		deliverUntil(t, sub, e.s.onEvent, core.EventEmail)
	}
	if p.sess.Email.State != core.EmailQueued {
		t.Fatalf("invitation %+v, want queued after a failed try", p.sess.Email)
	}
	if !strings.Contains(p.emailState.Text, "Cannot reach the mail server") || !p.resend.Visible() {
		t.Fatalf("email state %q, Resend shown %v; want the outbox's error and Resend", p.emailState.Text, p.resend.Visible())
	}
	srv.Restart()
	test.Tap(p.resend)
	for p.sess.Email.State != core.EmailSent {
		deliverUntil(t, sub, e.s.onEvent, core.EventEmail)
	}
	if p.resend.Visible() || !strings.HasPrefix(p.emailState.Text, "Sent to user@example.com") {
		t.Errorf("after Resend: email state %q, Resend shown %v", p.emailState.Text, p.resend.Visible())
	}
}

// pagesTestCopyLinks counts the panel's visible Copy link buttons.
func pagesTestCopyLinks(p *codePanel) int {
	n := 0
	for _, b := range findAll[*widget.Button](p.content) {
		if b.Text == "Copy link" {
			n++
		}
	}
	return n
}
