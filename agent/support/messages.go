package support

import (
	"fmt"
	"time"

	"adhocstation/core/wire"
)

// Every sentence the end user reads is here, so they can be reviewed
// together; the pipe hub's three are in agent/pipe/messages.go.

// AppTitle is the title of every message the user is shown.
const AppTitle = "Ad Hoc Support Session"

func consentText(t wire.Technician, length time.Duration) string {
	return fmt.Sprintf(`%s (%s) asks for remote access to this PC to give you IT support.

If you continue and type the security code they read out to you, this app will:

- create a HIDDEN local Administrator account named %s, with a password only your technician knows. It does not appear on the sign-in screen, but it has full control of this PC: with it the technician can sign in and install, change or read anything, as often as needed, for %s;
- install itself in C:\Program Files\AdHocSupport as the "Ad Hoc Support Session" service, which keeps the session's time even across restarts;
- show an icon in the notification area (next to the clock), where you can end the session at any time with "End support session and remove app";
- when the time is up, or when either of you ends the session, sign the technician out, delete the account and its files, and uninstall itself.

Security software may warn about a new hidden administrator account: that is this app.

Continue only if you asked this person for support.`, t.Name, t.Email, AccountName, hours(length))
}

func hours(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	}
	return d.Round(time.Minute).String()
}

var (
	msgDeclined = "You did not agree, so nothing was changed on this PC. You can delete this app."
	msgNoFacts  = "This app could not read this PC's details (%v). Nothing was changed. Tell your technician."

	msgWrongStation = "The connection to your technician's station could not be verified, so nothing was sent and nothing was changed on this PC. Someone may be intercepting the connection: tell your technician."
	msgNotWindows   = "The Support Session app runs on Windows PCs only."
	msgExpired      = "This invitation is no longer valid: it was cancelled, it timed out, or its session has ended. Nothing was changed on this PC. Ask your technician to prepare a new session and send you a new invitation."
	msgAlreadyUsed  = "This invitation has already been used on a computer. Nothing was changed on this PC. If this is the PC that needs support, ask your technician to prepare a new session."
	msgUnknownLink  = "Your technician's station does not know this download. Nothing was changed on this PC. Download the app again from the link in the invitation email."

	msgPasswordPolicy = "Windows on this PC refused the technician's password because it does not meet this PC's password rules (it is too short or too simple). Nothing was created and this app will now remove itself. Ask your technician to prepare a new session with a longer password."
	// Sent to the station with the cleanup receipt, so the technician sees it.
	detailPasswordPolicy = "Windows on the PC refused the password (NERR_PasswordTooShort, 2245: too short or not complex enough for the PC's password policy); no account was created. Prepare a new session with a longer password."

	msgReady = "This PC is ready. Your technician can now connect. The Support Session app stays in the notification area (next to the clock) until %s; you can end the session there at any time."
)

func codeProblem(w *wire.Error) string {
	switch w.Code {
	case wire.CodeInvalidCode:
		tries := "tries"
		if w.AttemptsLeft == 1 {
			tries = "try"
		}
		return fmt.Sprintf("That security code is not right. Check it with your technician and type it again — %d %s left.", w.AttemptsLeft, tries)
	case wire.CodeCodeBurned:
		return "That security code was typed wrongly too many times and no longer works. Ask your technician for a new security code (they can make one on their screen) and type it here."
	case wire.CodeRateLimited:
		wait := w.RetryAfterSeconds
		if wait <= 0 {
			wait = 60
		}
		return fmt.Sprintf("The station is refusing attempts for a moment (too many from this computer, or from everywhere at once). Wait %d seconds, then type the code again.", wait)
	}
	if w.Message != "" {
		return w.Message
	}
	return "The station refused the code (" + w.Code + "). Tell your technician."
}

// finalRefusal returns the message for refusals after which typing another
// code cannot help.
func finalRefusal(w *wire.Error) (string, bool) {
	switch w.Code {
	case wire.CodeNotWindows:
		return msgNotWindows, true
	case wire.CodeInvitationExpired, wire.CodeSessionClosed, wire.CodeSessionEnded:
		return msgExpired, true
	case wire.CodeAlreadyPaired:
		return msgAlreadyUsed, true
	case wire.CodeUnknownToken:
		return msgUnknownLink, true
	}
	return "", false
}

func offlineProblem(err error) string {
	return fmt.Sprintf("Cannot reach your technician's station (%v). Check that this PC is connected to the network, then type the code again.", err)
}

func endedText(reason string, removed bool, problems string) string {
	if !removed {
		return "The support session has ended (" + reason + "), but the account " + AccountName +
			" could not be removed: " + problems + ". It is disabled and Windows ends it at the session's end; the app's service tries again (at the latest after a restart). If it stays, tell your technician."
	}
	return "The support session has ended (" + reason + "). The account " + AccountName +
		" was removed from this PC (the technician was signed out) and this app uninstalls itself. You may delete the downloaded file."
}

// TimeLeft formats a remaining time for the tray ("23 h 59 min left").
func TimeLeft(d time.Duration) string {
	if d <= 0 {
		return "ending now"
	}
	d = d.Round(time.Minute)
	if d < time.Minute {
		return "less than a minute left"
	}
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	if h == 0 {
		return fmt.Sprintf("%d min left", m)
	}
	return fmt.Sprintf("%d h %d min left", h, m)
}
