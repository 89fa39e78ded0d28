package ui

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core"
)

// codePanel replaces the form once a session is prepared: the security code
// (shown this once), the deployment link and its QR code, the invitation's
// delivery, a countdown and the live pairing status.
type codePanel struct {
	s    *adhocScreen
	sess core.Session
	code string
	link string

	display     *codeDisplay
	codeWarning *widget.Label
	copyCode    *widget.Button
	linkText    *widget.Label
	copyLink    *widget.Button
	linkRow     fyne.CanvasObject // the link and its Copy button, while the link works
	emailState  *widget.Label
	resend      *widget.Button
	openMail    *widget.Button
	countdown   *widget.Label
	status      *widget.Label
	regenerate  *widget.Button
	cancel      *widget.Button
	leave       *widget.Button
	actionErr   *widget.Label
	content     fyne.CanvasObject

	copiedAt time.Time // when a copy button last showed its tick
	shortcut fyne.Shortcut
	// ownRegens counts our own regenerations whose event has not arrived;
	// any other EventCodeRegenerated means the code on screen is dead.
	ownRegens int
}

const waitingText = "Waiting for the user to run the Support Session app…"

// copiedFor is how long a copy button shows its tick before turning back.
const copiedFor = 2 * time.Second

func newCodePanel(s *adhocScreen, prep core.Prepared) *codePanel {
	p := &codePanel{s: s, sess: prep.Session, code: prep.Code, link: prep.Link}
	p.display = newCodeDisplay()
	p.display.setCode(prep.Code, prep.Link)
	p.codeWarning = &widget.Label{Wrapping: fyne.TextWrapWord, TextStyle: fyne.TextStyle{Bold: true},
		Text: "Read this code to the user when the app asks for it. It will not be shown again once you leave this panel."}
	p.copyCode = widget.NewButtonWithIcon("Copy code", theme.ContentCopyIcon(), p.onCopyCode)
	// One line, cut with an ellipsis if the window is narrow: nobody reads a
	// token aloud; Copy link and the QR code carry all of it.
	p.linkText = &widget.Label{Text: prep.Link, Truncation: fyne.TextTruncateEllipsis}
	p.copyLink = widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), p.onCopyLink)
	p.emailState = &widget.Label{Wrapping: fyne.TextWrapWord}
	p.resend = widget.NewButtonWithIcon("Resend", theme.MailSendIcon(), p.onResend)
	p.openMail = widget.NewButtonWithIcon("Open in mail program", theme.MailComposeIcon(), p.onOpenMail)
	p.countdown = widget.NewLabel("")
	p.status = &widget.Label{Wrapping: fyne.TextWrapWord, TextStyle: fyne.TextStyle{Bold: true}}
	p.regenerate = widget.NewButtonWithIcon("Regenerate code", theme.ViewRefreshIcon(), p.onRegenerate)
	p.cancel = &widget.Button{Text: "Cancel session", Icon: theme.CancelIcon(), Importance: widget.DangerImportance,
		OnTapped: p.onCancel}
	p.cancel.ExtendBaseWidget(p.cancel)
	p.leave = widget.NewButtonWithIcon("Back to the form", theme.NavigateBackIcon(), p.onLeave)
	p.actionErr = fieldErrorLabel()
	p.content = p.layout()
	p.shortcut = &fyne.ShortcutCopy{}
	s.win.Canvas().AddShortcut(p.shortcut, func(fyne.Shortcut) { p.onCopyCode() })
	p.show()
	return p
}

func (p *codePanel) layout() fyne.CanvasObject {
	title := titleLabel("Security code for " + p.sess.UserEmail)
	title.Wrapping = fyne.TextWrapWord
	left := container.NewVBox(p.display, container.NewCenter(p.copyCode), p.codeWarning)
	p.linkRow = container.NewVBox(
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Deployment link", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewBorder(nil, nil, nil, p.copyLink, p.linkText),
	)
	right := container.NewVBox(
		p.status,
		p.countdown,
		p.linkRow,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Invitation email", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		p.emailState,
		container.NewHBox(p.resend, p.openMail),
	)
	// Two columns when the window is wide enough, else the code first; the
	// session's actions stay below, on screen.
	body := container.NewVBox(title, container.New(&sideBySide{}, left, right))
	return scrollPage(body, container.NewHBox(p.regenerate, p.cancel, p.leave), p.actionErr)
}

// show brings every widget in line with the session as core last told us.
func (p *codePanel) show() {
	sess := p.sess
	switch {
	case p.code == "":
	case sess.State != core.StatePrepared:
		// The code has done its job or can no longer be used: off the screen.
		p.hideCode("The security code is no longer shown.")
	case sess.CodeBurned():
		p.hideCode("This code no longer works. Click Regenerate code for a new one.")
	}
	p.status.SetText(pairingStatusText(sess, p.s.loc))
	p.showEmail()
	p.onTick(p.s.now())
	// Once the session has left prepared the link is dead: nothing offers it.
	showIf(p.linkRow, sess.State == core.StatePrepared)
	showIf(p.regenerate, sess.State == core.StatePrepared)
	showIf(p.cancel, sess.State.Open())
	if sess.State == core.StateActive {
		p.cancel.SetText("End session now")
	} else {
		p.cancel.SetText("Cancel session")
	}
}

func showIf(o fyne.CanvasObject, v bool) {
	if v {
		o.Show()
	} else {
		o.Hide()
	}
}

// statusText is the live status line.
func pairingStatusText(sess core.Session, loc *time.Location) string {
	switch sess.State {
	case core.StatePrepared:
		if sess.CodeBurned() {
			return "The code was typed wrongly too many times and no longer works. Click Regenerate code and read the new one to the user."
		}
		return waitingText
	case core.StateActive:
		c := sess.Computer
		if c == nil {
			return "Paired — active until " + sess.ExpiresAt.In(loc).Format("Mon 15:04")
		}
		return fmt.Sprintf("Paired with %s (%s, user %s) — active until %s",
			c.Hostname, c.OSName, c.WindowsUser, sess.ExpiresAt.In(loc).Format("Mon 15:04"))
	case core.StateCancelled:
		return "This session was " + sess.ClosedText() + ". Its link no longer works; prepare a new session if the user still needs help."
	case core.StateExpired:
		return "This session has expired after its 24 hours. The PC removes the account and the app."
	case core.StateEnded:
		return "This session was " + sess.ClosedText() + ". The PC removes the account and the app."
	}
	return string(sess.State)
}

func (p *codePanel) showEmail() {
	e := p.sess.Email
	p.resend.Hide()
	p.openMail.Hide()
	if p.sess.State != core.StatePrepared && e.State != core.EmailSent {
		// Nothing is sent for a session that no longer waits for its user.
		p.emailState.SetText("The invitation is no longer needed.")
		return
	}
	switch e.State {
	case core.EmailQueued:
		if retry := e.RetryText(); retry != "" {
			// A try failed and another is due: the outbox's sentence says
			// why and when, and Resend tries at once.
			p.emailState.SetText(retry)
			p.resend.Show()
			break
		}
		p.emailState.SetText("Queued — the station is sending the invitation to " + p.sess.UserEmail + "…")
	case core.EmailSent:
		p.emailState.SetText("Sent to " + p.sess.UserEmail + " at " + e.SentAt.In(p.s.loc).Format("15:04") + ".")
	case core.EmailFailed:
		p.emailState.SetText("Not sent. The mail server answered: " + e.LastError +
			" Check the address or the SMTP settings, then click Resend.")
		p.resend.Show()
	case core.EmailNotConfigured:
		// The link's own Copy link button is just above: no second one here.
		p.emailState.SetText("Not sent — SMTP is not configured on this station. Copy the link above into your " +
			"own message, or open the invitation in your mail program.")
		p.openMail.Show()
	default:
		p.emailState.SetText("")
	}
}

// onTick moves the countdown and turns a copy button's tick back.
func (p *codePanel) onTick(now time.Time) {
	left := p.sess.TimeLeft(now)
	switch p.sess.State {
	case core.StatePrepared:
		p.countdown.SetText("The invitation is valid for " + adhocDuration(left) + " more (until " +
			p.sess.InviteExpiresAt.In(p.s.loc).Format("15:04") + ").")
	case core.StateActive:
		p.countdown.SetText(adhocDuration(left) + " left in the 24-hour window.")
	default:
		p.countdown.SetText("")
	}
	if !p.copiedAt.IsZero() && now.Sub(p.copiedAt) >= copiedFor {
		p.copiedAt = time.Time{}
		p.copyCode.SetIcon(theme.ContentCopyIcon())
		p.copyCode.SetText("Copy code")
		p.copyLink.SetIcon(theme.ContentCopyIcon())
	}
}

// adhocDuration reads like "59 min 30 s" or "23 h 05 min".
func adhocDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, sec := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	if h > 0 {
		return fmt.Sprintf("%d h %02d min", h, m)
	}
	return fmt.Sprintf("%d min %02d s", m, sec)
}

func (p *codePanel) hideCode(why string) {
	p.code = ""
	p.display.setCode("", "")
	p.copyCode.Hide()
	p.codeWarning.SetText(why)
}

func (p *codePanel) onEvent(e core.Event) {
	if e.Kind != core.EventLagged && e.SessionID != p.sess.ID {
		return
	}
	if e.Kind == core.EventCodeRegenerated {
		if p.ownRegens > 0 {
			p.ownRegens--
		} else if p.code != "" {
			// Regenerated elsewhere (another window, the command line).
			p.hideCode("A new code was made elsewhere, so this one no longer works. Click Regenerate code to show a new one here.")
		}
	}
	sess, err := p.s.st.Session(context.Background(), p.sess.ID)
	if err != nil {
		setFieldError(p.actionErr, errorText(err))
		return
	}
	p.sess = sess
	p.show()
}

func (p *codePanel) codeVisible() bool { return p.code != "" }

func (p *codePanel) copied(b *widget.Button) {
	b.SetIcon(theme.ConfirmIcon())
	p.copiedAt = p.s.now()
}

func (p *codePanel) onCopyCode() {
	if p.code == "" {
		return
	}
	fyne.CurrentApp().Clipboard().SetContent(p.code)
	p.copyCode.SetText("Copied")
	p.copied(p.copyCode)
}

func (p *codePanel) onCopyLink() {
	fyne.CurrentApp().Clipboard().SetContent(p.link)
	p.copied(p.copyLink)
}

func (p *codePanel) onResend() {
	if err := p.s.st.ResendInvitation(context.Background(), p.sess.ID); err != nil {
		setFieldError(p.actionErr, errorText(err))
		return
	}
	setFieldError(p.actionErr, "")
}

func (p *codePanel) onOpenMail() {
	raw, err := p.s.st.InvitationMailto(context.Background(), p.sess.ID)
	if err == nil {
		var u *url.URL
		if u, err = url.Parse(raw); err == nil {
			err = fyne.CurrentApp().OpenURL(u)
		}
	}
	if err != nil {
		setFieldError(p.actionErr, errorText(err)+" Copy the link instead.")
		return
	}
	setFieldError(p.actionErr, "")
}

func (p *codePanel) onRegenerate() {
	code, err := p.s.st.RegenerateCode(context.Background(), p.sess.ID)
	if err != nil {
		setFieldError(p.actionErr, errorText(err))
		return
	}
	setFieldError(p.actionErr, "")
	p.ownRegens++
	p.code = code
	p.display.setCode(code, p.link)
	p.copyCode.Show()
	p.codeWarning.SetText("This is a new code; the previous one no longer works. It will not be shown again once you leave this panel.")
	if sess, err := p.s.st.Session(context.Background(), p.sess.ID); err == nil {
		p.sess = sess
		p.show()
	}
}

func (p *codePanel) onCancel() {
	title, msg, action := "Cancel this session?", "The deployment link stops working and the seat is freed. "+
		"The user will need a new invitation.", "Cancel session"
	if p.sess.State == core.StateActive {
		title, msg, action = "End this session now?", "The PC removes the hidden account and the Support Session app. "+
			"You will not be able to connect to it any more.", "End session now"
	}
	d := dialog.NewConfirm(title, msg, func(ok bool) {
		if ok {
			p.doCancel()
		}
	}, p.s.win)
	d.SetConfirmText(action)
	d.SetDismissText("Keep it")
	d.Show()
}

func (p *codePanel) doCancel() {
	var err error
	if p.sess.State == core.StateActive {
		err = p.s.st.End(context.Background(), p.sess.ID)
	} else {
		err = p.s.st.Cancel(context.Background(), p.sess.ID)
	}
	if err != nil {
		setFieldError(p.actionErr, errorText(err))
	} else {
		setFieldError(p.actionErr, "")
	}
	p.onEvent(core.Event{Kind: core.EventLagged}) // show the new state now, not when the event arrives
	p.s.reloadSeats()
}

// onLeave asks first while the code is on screen: it cannot be shown again.
func (p *codePanel) onLeave() {
	if !p.codeVisible() {
		p.s.showForm()
		return
	}
	d := dialog.NewConfirm("Leave the security code?", "The security code will not be shown again. If the user "+
		"has not typed it yet, stay and give them this one, or regenerate it first.",
		func(ok bool) {
			if ok {
				p.s.showForm()
			}
		}, p.s.win)
	d.SetConfirmText("Leave")
	d.SetDismissText("Stay")
	d.Show()
}

func (p *codePanel) close() {
	p.s.win.Canvas().RemoveShortcut(p.shortcut)
	p.code = ""
	p.display.setCode("", "")
}
