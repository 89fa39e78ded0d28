package cli

import (
	"strings"
	"testing"
	"time"

	"adhocstation/core/pairing"
)

// settings get shows the built-in app's signature: publisher, subject and
// end, with a warning within 30 days; "unsigned" without one.
func TestCLISettingsShowAppSignature(t *testing.T) {
	dir := cliStation(t)
	t.Cleanup(func() { appSignature = pairing.EmbeddedSignature })
	appSignature = func() pairing.AppSignature {
		return pairing.AppSignature{Signed: true, Publisher: "Example Support Ltd", Subject: "CN=Example Support Ltd",
			NotAfter: time.Now().Add(10*24*time.Hour + time.Hour)}
	}
	got := mustRun(t, dir, "", "settings", "get", "app_signature")
	if !strings.HasPrefix(got, "Example Support Ltd (CN=Example Support Ltd), valid until ") || !strings.Contains(got, "expires in 10 days") {
		t.Errorf("settings get app_signature = %q", got)
	}
	if text := mustRun(t, dir, "", "settings", "get"); !strings.Contains(text, "\napp_signature=Example Support Ltd") {
		t.Errorf("settings get does not list app_signature:\n%s", text)
	}
	all := decode[map[string]any](t, mustRun(t, dir, "", "settings", "get", "--json"))
	if sig, _ := all["app_signature"].(map[string]any); sig["publisher"] != "Example Support Ltd" || sig["expiring"] != true || sig["signed"] != true {
		t.Errorf("settings get --json app_signature = %v", all["app_signature"])
	}
	appSignature = func() pairing.AppSignature { return pairing.AppSignature{} }
	if got := mustRun(t, dir, "", "settings", "get", "app_signature"); got != "unsigned\n" {
		t.Errorf("unsigned app: settings get app_signature = %q", got)
	}
}
