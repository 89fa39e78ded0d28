package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"

	"adhocstation/core/coretest"
	"adhocstation/core/pairing"
)

// Settings names the app's publisher and the certificate's end, warns 30
// days ahead, and says what an unsigned app means for users.
func TestSettingsShowsAppSignature(t *testing.T) {
	signed := func(left time.Duration) pairing.AppSignature {
		return pairing.AppSignature{Signed: true, Publisher: "Example Support Ltd",
			Subject: "CN=Example Support Ltd,O=Example", NotAfter: coretest.Start.Add(left)}
	}
	cases := []struct {
		name string
		sig  pairing.AppSignature
		imp  widget.Importance
		says []string
	}{
		{"Valid", signed(90 * 24 * time.Hour), widget.MediumImportance, []string{"Example Support Ltd", "CN=Example Support Ltd,O=Example", "Valid until"}},
		{"Expiring", signed(29*24*time.Hour + time.Hour), widget.WarningImportance, []string{"expires in 29 days", "renew"}},
		{"Expired", signed(-time.Hour), widget.DangerImportance, []string{"has expired"}},
		{"Unsigned", pairing.AppSignature{}, widget.MediumImportance, []string{"Not signed", "Unknown publisher", "SIGN_PFX"}},
		{"Unusable", pairing.AppSignature{Problem: "the app's certificate table is not at the end of the file"}, widget.DangerImportance, []string{"not at the end", "unsigned"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := coretest.Open(t)
			shown := pagesTestSettings(t, st).showAppSignature(tc.sig)
			for _, want := range tc.says {
				if !strings.Contains(shown.Text, want) {
					t.Errorf("Settings says %q; want %q in it", shown.Text, want)
				}
			}
			if shown.Importance != tc.imp {
				t.Errorf("importance %v, want %v", shown.Importance, tc.imp)
			}
		})
	}
}
