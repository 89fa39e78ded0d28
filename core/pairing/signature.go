package pairing

import (
	"errors"
	"sync"
	"time"

	"adhocstation/core/wire"
)

// AppSignature describes the Authenticode signature of the Support Session
// app the station offers (make agent signs it when the organisation gives
// a code-signing certificate; README, "Signing the Support Session app").
type AppSignature struct {
	// Signed is false for an unsigned app: Windows then shows "Unknown
	// publisher" and SmartScreen's "Windows protected your PC".
	Signed bool
	// Publisher is the name Windows shows in the administrator prompt.
	Publisher string
	// Subject is the signing certificate's whole subject, NotAfter its end.
	Subject  string
	NotAfter time.Time
	// Problem, if set, is why a signed app cannot be offered with its
	// signature intact (the download then carries the unsigned trailer).
	Problem string
}

// ExpiryWarning is how long before the signing certificate ends the
// station starts to warn.
const ExpiryWarning = 30 * 24 * time.Hour

// Expiring reports whether the certificate ends within ExpiryWarning of
// now (or has ended).
func (a AppSignature) Expiring(now time.Time) bool {
	return a.Signed && now.Add(ExpiryWarning).After(a.NotAfter)
}

// signature parses exe's signature; app is nil unless the download can be
// tagged with the session details inside it.
func signature(exe []byte) (AppSignature, *wire.SignedApp) {
	if len(exe) == 0 {
		return AppSignature{}, nil
	}
	app, err := wire.ParseSignedApp(exe)
	if errors.Is(err, wire.ErrNotSigned) || errors.Is(err, wire.ErrNotProgram) {
		return AppSignature{}, nil
	}
	if err != nil {
		return AppSignature{Problem: err.Error()}, nil
	}
	c, err := app.Signer()
	if err != nil {
		return AppSignature{Signed: true, Problem: err.Error()}, app
	}
	return AppSignature{Signed: true, Publisher: wire.Publisher(c), Subject: c.Subject.String(), NotAfter: c.NotAfter}, app
}

var embedded = sync.OnceValue(func() AppSignature {
	sig, _ := signature(embeddedAgent())
	return sig
})

// EmbeddedSignature describes the signature of the Support Session app
// built into this station (read once).
func EmbeddedSignature() AppSignature { return embedded() }
