package core

import (
	"crypto/rand"
	"math/big"
	"strings"
)

// Generated passwords are read off the screen and typed at a Windows sign-in
// prompt, perhaps on another keyboard layout: groups of letters and digits
// without the look-alikes 0/O/o, 1/l/I/i, and without y/z, which QWERTZ
// keyboards swap.
const (
	genLower  = "abcdefghjkmnpqrstuvwx"
	genUpper  = "ABCDEFGHJKLMNPQRSTUVWX"
	genDigits = "23456789"
	genChars  = genLower + genUpper + genDigits

	genGroups    = 4
	genGroupSize = 5
)

// GeneratePassword returns a random technician password such as
// "k7RmE-Xq4tB-9bPwH-Hc3eF": four groups of five characters (about 113 bits
// of randomness) with at least one lower-case letter, one capital and one
// digit, so it also meets Windows' complexity policy. It passes
// ValidatePassword unless the user's email name happens to appear in it
// (about once in 30,000 for a short name such as "user"), so callers check
// it as they would a typed one and draw again. The only error is a failure
// of the system's random source.
func GeneratePassword() (string, error) {
	nChars := big.NewInt(int64(len(genChars)))
	for {
		var b strings.Builder
		for g := range genGroups {
			if g > 0 {
				b.WriteByte('-')
			}
			for range genGroupSize {
				n, err := rand.Int(rand.Reader, nChars)
				if err != nil {
					return "", err
				}
				b.WriteByte(genChars[n.Int64()])
			}
		}
		pw := b.String()
		if strings.ContainsAny(pw, genLower) && strings.ContainsAny(pw, genUpper) && strings.ContainsAny(pw, genDigits) {
			return pw, nil
		}
	}
}
