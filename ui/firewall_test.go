package ui

import (
	"errors"
	"testing"

	"fyne.io/fyne/v2/test"
)

func TestFirewallBannerAllowsThePort(t *testing.T) {
	results := []error{errors.New("the firewall rule was not added: the administrator prompt was refused"), nil}
	calls := 0
	w, _, _, work := uiTestWindow(t, Options{
		FirewallNote: "Windows Defender Firewall has no rule for the pairing port 8443 yet.",
		AllowFirewall: func() error {
			calls++
			return results[calls-1]
		},
	})
	b := w.firewall
	if b == nil || !b.box.Visible() || b.note.Text == "" {
		t.Fatal("the firewall note is not shown above the pages")
	}
	allow := findButton(t, w.win.Content(), "Allow pairing through the firewall")

	work.during(t, jobFirewall, func() { test.Tap(allow) })
	if !labelShown(b.failed) || b.failed.Text != results[0].Error() || !b.box.Visible() {
		t.Errorf("a refused prompt: banner visible %v, error %q", b.box.Visible(), b.failed.Text)
	}
	if allow.Disabled() {
		t.Error("the button stays disabled after a refusal: the technician cannot try again")
	}

	work.during(t, jobFirewall, func() { test.Tap(allow) })
	if b.box.Visible() {
		t.Error("the banner is still shown after the rule was added")
	}
}

func TestNoFirewallNoteNoBanner(t *testing.T) {
	w, _, _, _ := uiTestWindow(t, Options{})
	if w.firewall != nil {
		t.Error("a firewall banner without a note")
	}
}
