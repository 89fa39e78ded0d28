package cli

import (
	"fmt"
	"time"

	"adhocstation/core/pairing"
)

// appSignatureKey is the read-only line `settings get` adds: the code-signing
// certificate of the Support Session app built into this station.
const appSignatureKey = "app_signature"

// appSignature is what settings get shows for the built-in app (a variable
// so tests can give a signed one).
var appSignature = pairing.EmbeddedSignature

// appSignatureText is the one-line form: "unsigned", or the publisher, the
// subject and the end date, with a warning within pairing.ExpiryWarning.
func appSignatureText(sig pairing.AppSignature, now time.Time) string {
	switch {
	case sig.Problem != "":
		return "unusable: " + sig.Problem
	case !sig.Signed:
		return "unsigned"
	}
	s := fmt.Sprintf("%s (%s), valid until %s", sig.Publisher, sig.Subject, sig.NotAfter.UTC().Format(time.DateOnly))
	switch {
	case !now.Before(sig.NotAfter):
		s += ": EXPIRED"
	case sig.Expiring(now):
		s += fmt.Sprintf(": expires in %d days, renew it", int(sig.NotAfter.Sub(now).Hours()/24))
	}
	return s
}

// appSignatureJSON is the --json form.
func appSignatureJSON(sig pairing.AppSignature, now time.Time) map[string]any {
	obj := map[string]any{"signed": sig.Signed && sig.Problem == ""}
	if sig.Problem != "" {
		obj["problem"] = sig.Problem
	}
	if sig.Signed {
		obj["publisher"], obj["subject"], obj["not_after"] = sig.Publisher, sig.Subject, sig.NotAfter.UTC().Format(time.RFC3339)
		obj["expiring"] = sig.Expiring(now)
	}
	return obj
}
