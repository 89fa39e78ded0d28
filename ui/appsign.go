package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core/pairing"
)

// showAppSignature adds a read-only "Support Session app" group to
// Settings: who Windows will name as the downloaded app's publisher, and
// until when, warning ExpiryWarning ahead. The station's pairing service
// always offers its built-in app, so that is the one described.
func (s *settingsScreen) showAppSignature(sig pairing.AppSignature) *widget.Label {
	text, imp := appSignatureText(sig, s.st.Now())
	shown := &widget.Label{Text: text, Importance: imp, Wrapping: fyne.TextWrapWord}
	s.form.Objects = append(s.form.Objects,
		titleLabel("Support Session app"),
		&widget.Label{Text: "The code-signing certificate of the app users download (make agent signs it; README).", Wrapping: fyne.TextWrapWord},
		widget.NewLabel("Signed by"), container.NewVBox(shown))
	s.form.Refresh()
	return shown
}

// appSignatureText says what users' Windows will show for the app, and
// what to do when that is a warning.
func appSignatureText(sig pairing.AppSignature, now time.Time) (string, widget.Importance) {
	switch {
	case sig.Problem != "":
		return "The app's signature cannot be kept in downloads (" + sig.Problem + "), so Windows will call it unsigned. " +
			"Build the app again with make agent and a code-signing certificate.", widget.DangerImportance
	case !sig.Signed:
		return "Not signed. Windows will say \"Unknown publisher\" and SmartScreen \"Windows protected your PC\" " +
			"(users must click More info, then Run anyway). Give make agent the organisation's code-signing " +
			"certificate (SIGN_PFX, or SIGN_CERT and SIGN_KEY) to have Windows name the publisher.", widget.MediumImportance
	}
	head := fmt.Sprintf("%s\n%s\nValid until %s", sig.Publisher, sig.Subject, sig.NotAfter.Local().Format("2 January 2006"))
	days := int(sig.NotAfter.Sub(now).Hours() / 24)
	switch {
	case !now.Before(sig.NotAfter):
		return head + "\nThis certificate has expired: unless the app was time-stamped, Windows no longer trusts its " +
			"signature. Renew the certificate and build the app again (make agent).", widget.DangerImportance
	case sig.Expiring(now):
		return head + fmt.Sprintf("\nThis certificate expires in %s: renew it and build the app again (make agent) "+
			"before then.", plural(days, "day", "days")), widget.WarningImportance
	}
	return head, widget.MediumImportance
}
