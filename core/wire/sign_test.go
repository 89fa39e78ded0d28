package wire

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"adhocstation/core/wire/signtest"
)

// The signing tests run agent/sign.sh, what `make agent` runs,
// with the Makefile's SIGN_* variables.

func TestTokenSignedDownloadKeepsSignature(t *testing.T) {
	pki := signtest.NewPKI(t, 24*time.Hour)
	tok := signtest.NewToken(t, pki)
	exe, out, _, err := signtest.SignWithScript(t, tok.Env...)
	if err != nil {
		t.Fatalf("signing with the PKCS#11 token failed:\n%s", err)
	}
	// The PIN is read from its file by osslsigncode, never printed.
	if strings.Contains(out, "417305") {
		t.Errorf("the signing output shows the token's PIN:\n%s", out)
	}
	r := pki.App(exe)
	checkTaggedKeepsSignature(t, r, func(exe []byte) (string, error) { return signtest.Verify(t, r, exe) })

	t.Run("CertificateFromFile", func(t *testing.T) {
		// Key on the token, certificate and chain from a PEM file.
		var env []string
		for _, kv := range tok.Env {
			if !strings.HasPrefix(kv, "SIGN_PKCS11_CERT=") {
				env = append(env, kv)
			}
		}
		exe, _, _, err := signtest.SignWithScript(t, append(env, "SIGN_CERT="+pki.CertFile)...)
		if err != nil {
			t.Fatalf("signing with the token's key and the certificate's file failed:\n%s", err)
		}
		if out, err := signtest.Verify(t, r, exe); err != nil {
			t.Fatalf("osslsigncode refuses it:\n%s", out)
		}
	})
	t.Run("WrongPINFails", func(t *testing.T) {
		env := append([]string{}, tok.Env...)
		pin := t.TempDir() + "/wrong-pin"
		if err := os.WriteFile(pin, []byte("000000"), 0o600); err != nil {
			t.Fatal(err)
		}
		env = append(env, "SIGN_PKCS11_PIN_FILE="+pin)
		_, out, gone, err := signtest.SignWithScript(t, env...)
		if err == nil || !gone || !strings.Contains(out, "PIN incorrect") {
			t.Fatalf("signing with a wrong PIN: err %v, unsigned app deleted %v; want a failure naming the PIN:\n%s", err, gone, out)
		}
	})
	t.Run("PINInURIRefused", func(t *testing.T) {
		env := append([]string{}, tok.Env...)
		env = append(env, "SIGN_PKCS11_KEY=pkcs11:token="+signtest.TokenLabel+";object=codesign;type=private?pin-value=417305")
		_, out, gone, err := signtest.SignWithScript(t, env...)
		if err == nil || !gone || !strings.Contains(out, "SIGN_PKCS11_PIN_FILE") || strings.Contains(out, "417305") {
			t.Fatalf("a PIN inside the key's URI: err %v, deleted %v; want a refusal pointing to SIGN_PKCS11_PIN_FILE without the PIN:\n%s", err, gone, out)
		}
	})
}

// TestMakeAgentSignsWithToken runs `make agent` itself with the token's
// variables, into a temporary file: the Makefile hands them to the script,
// the real app comes out signed, and make's output shows no PIN. The app's
// build is cached after `make agent` (make test runs it first).
func TestMakeAgentSignsWithToken(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real app with make; not in -short")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed; the Makefile's signing is not tested")
	}
	pki := signtest.NewPKI(t, 24*time.Hour)
	tok := signtest.NewToken(t, pki)
	exe := filepath.Join(t.TempDir(), "AdHocSupport.exe")
	cmd := exec.Command("make", "--no-print-directory", "-C", signtest.Root(), "agent", "AGENT_EXE="+exe)
	cmd.Env = signtest.Environ()
	// The SIGN_* variables as make arguments, the way the README shows them.
	for _, kv := range tok.Env {
		if strings.HasPrefix(kv, "SIGN_") {
			cmd.Args = append(cmd.Args, kv)
		} else {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make agent with a PKCS#11 token: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "417305") {
		t.Errorf("make's output shows the token's PIN:\n%s", out)
	}
	signed, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	r := pki.App(signed)
	if out, err := signtest.Verify(t, r, signed); err != nil {
		t.Fatalf("the app make agent signed does not verify:\n%s", out)
	}
	if _, err := ParseSignedApp(signed); err != nil {
		t.Fatalf("the app make agent signed cannot be tagged: %v", err)
	}
}

// osslsigncode verify prints the countersignature's time: "Timestamp
// time: Dec  6 23:10:23 2026 GMT" (2.9), "The signature is timestamped:
// ..." (Debian's 2.5).
var timestampLine = regexp.MustCompile(`(?m)^\s*(Timestamp time|The signature is timestamped): +\w{3} +\d+ \d\d:\d\d:\d\d \d{4} GMT`)

func TestTimestampedDownloadOutlivesCertificate(t *testing.T) {
	// The code-signing certificate ends an hour from now; the root and
	// the time-stamping certificate last ten years.
	pki := signtest.NewPKI(t, time.Hour)
	tsa := signtest.ServeTSA(t, pki)
	exe, _, _, err := signtest.SignWithScript(t, append(pki.PEMEnv(), "SIGN_TIMESTAMP="+tsa.URL)...)
	if err != nil {
		t.Fatalf("signing with a timestamp failed:\n%s", err)
	}
	if tsa.Served() == 0 {
		t.Fatal("the app was signed without asking the time-stamping server")
	}
	r := pki.App(exe)
	out, err := signtest.Verify(t, r, exe)
	if err != nil || !timestampLine.MatchString(out) || !strings.Contains(out, "Timestamp Server Signature verification: ok") {
		t.Fatalf("the timestamped app does not verify with its timestamp (err %v):\n%s", err, out)
	}
	// Two days on, the certificate has expired: the timestamp proves it
	// signed while valid, and the tagged downloads stay valid.
	later := func(exe []byte) (string, error) { return signtest.VerifyAt(t, r, exe, "+2d") }
	checkTaggedKeepsSignature(t, r, later)

	t.Run("UntimestampedExpires", func(t *testing.T) {
		// The control: without a timestamp the same certificate's signature
		// is refused once it has expired, so the check above can fail.
		plain, _, _, err := signtest.SignWithScript(t, pki.PEMEnv()...)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := later(plain); err == nil || !strings.Contains(out, "expired") {
			t.Fatalf("a signature without timestamp, two days on: err %v; want a refusal for the expired certificate:\n%s", err, out)
		}
	})
}

func TestSigningFailsWhenTSAUnreachable(t *testing.T) {
	pki := signtest.NewPKI(t, 24*time.Hour)
	// A port that was just free: nothing answers there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	_, out, gone, err := signtest.SignWithScript(t, append(pki.PEMEnv(), "SIGN_TIMESTAMP="+url)...)
	if err == nil {
		t.Fatalf("signing succeeded with an unreachable time-stamping server:\n%s", out)
	}
	if !gone {
		t.Errorf("the unsigned app was left behind after the signing failed:\n%s", out)
	}
	if !strings.Contains(out, "time-stamping server "+url) || !strings.Contains(out, "reachable") {
		t.Errorf("the failure does not name the time-stamping server and what to check:\n%s", out)
	}

	t.Run("ServerRefuses", func(t *testing.T) {
		// A server that answers, but with an error instead of a timestamp.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
		}))
		defer srv.Close()
		_, out, gone, err := signtest.SignWithScript(t, append(pki.PEMEnv(), "SIGN_TIMESTAMP="+srv.URL)...)
		if err == nil || !gone || !strings.Contains(out, "time-stamping server "+srv.URL) {
			t.Fatalf("a time-stamping server answering 503: err %v, unsigned app deleted %v; want a failure naming the server:\n%s", err, gone, out)
		}
	})
}

// BenchmarkSignAgent is what signing adds to `make agent` for the real app
// (assets/agent/AdHocSupport.exe built unsigned): the PEM pair, the SoftHSM2
// token, and the token with a timestamp from the local test server.
func BenchmarkSignAgent(b *testing.B) {
	exe, err := os.ReadFile("../../assets/agent/AdHocSupport.exe")
	if err != nil {
		b.Skip("no assets/agent/AdHocSupport.exe: run make agent")
	}
	if _, err := ParseSignedApp(exe); err == nil {
		b.Skip("assets/agent/AdHocSupport.exe is signed already: run make agent without SIGN_* variables")
	}
	pki := signtest.NewPKI(b, 24*time.Hour)
	for _, c := range []struct {
		name string
		env  func() []string
	}{
		{"PEM", pki.PEMEnv},
		{"Token", func() []string { return signtest.NewToken(b, pki).Env }},
		{"TokenTimestamp", func() []string {
			return append(signtest.NewToken(b, pki).Env, "SIGN_TIMESTAMP="+signtest.ServeTSA(b, pki).URL)
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			env := c.env()
			for b.Loop() {
				if _, out, _, err := signtest.SignExe(b, exe, env...); err != nil {
					b.Fatal(out)
				}
			}
		})
	}
}
