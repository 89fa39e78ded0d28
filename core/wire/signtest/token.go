package signtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// SoftHSM2's module, where Debian's libsofthsm2 puts it.
var softhsmModules = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
}

// TokenLabel names the test token in the pkcs11: URIs.
const TokenLabel = "adhoc-test"

// Token is a SoftHSM2 PKCS#11 token in a test's temporary folder holding
// the PKI's code-signing key and certificate (label "codesign").
type Token struct {
	// Env signs with the token: SOFTHSM2_CONF and the SIGN_PKCS11_*
	// variables of `make agent`, the PIN in a file.
	Env []string
}

// NewToken makes the token, or skips the test naming what is missing
// (make deps installs softhsm2, libengine-pkcs11-openssl and opensc).
func NewToken(tb testing.TB, p PKI) Token {
	tb.Helper()
	needTools(tb)
	module := ""
	for _, m := range softhsmModules {
		if _, err := os.Stat(m); err == nil {
			module = m
			break
		}
	}
	if module == "" {
		tb.Skip("SoftHSM2 is not installed (make deps installs softhsm2); signing with a PKCS#11 token is not tested")
	}
	if _, err := exec.LookPath("pkcs11-tool"); err != nil {
		tb.Skip("pkcs11-tool is not installed (make deps installs opensc); signing with a PKCS#11 token is not tested")
	}
	if !haveEngine() {
		tb.Skip("OpenSSL's pkcs11 engine is not installed (make deps installs libengine-pkcs11-openssl); signing with a PKCS#11 token is not tested")
	}

	dir := tb.TempDir()
	tokens := filepath.Join(dir, "tokens")
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	const pin = "417305"
	pinFile := filepath.Join(dir, "pin")
	if err := os.WriteFile(pinFile, []byte(pin), 0o600); err != nil {
		tb.Fatal(err)
	}
	keyFile, certFile := filepath.Join(dir, "key.der"), filepath.Join(dir, "cert.der")
	if err := os.WriteFile(keyFile, p.KeyDER, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(certFile, p.CertDER, 0o600); err != nil {
		tb.Fatal(err)
	}
	env := []string{"SOFTHSM2_CONF=" + conf}
	// A throwaway token: its PINs on pkcs11-tool's command line harm no one;
	// the signing itself reads the PIN from the file.
	tool := func(args ...string) {
		cmd := exec.Command("pkcs11-tool", append([]string{"--module", module}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("pkcs11-tool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	tool("--init-token", "--label", TokenLabel, "--so-pin", "10293847", "--init-pin", "--pin", pin)
	for _, obj := range [][2]string{{keyFile, "privkey"}, {certFile, "cert"}} {
		tool("--token-label", TokenLabel, "--login", "--pin", pin,
			"--write-object", obj[0], "--type", obj[1], "--id", "01", "--label", "codesign")
	}
	uri := "pkcs11:token=" + TokenLabel + ";object=codesign;type="
	return Token{Env: append(env,
		"SIGN_PKCS11_MODULE="+module,
		"SIGN_PKCS11_KEY="+uri+"private",
		"SIGN_PKCS11_CERT="+uri+"cert",
		"SIGN_PKCS11_PIN_FILE="+pinFile,
	)}
}

// haveEngine tells whether OpenSSL's engines folder has libp11's engine,
// which osslsigncode loads by the name "pkcs11".
func haveEngine() bool {
	out, err := exec.Command("openssl", "version", "-e").Output()
	if err != nil {
		return false
	}
	_, dir, ok := strings.Cut(strings.TrimSpace(string(out)), "\"")
	if !ok {
		return false
	}
	_, err = os.Stat(filepath.Join(strings.TrimSuffix(dir, "\""), "pkcs11.so"))
	return err == nil
}
