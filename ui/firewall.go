package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

const jobFirewall = "firewall"

// firewallBanner says, above every page, that the host firewall has no rule
// for the pairing port yet, so PCs may not reach the station, and offers to
// add one (Windows asks for administrator rights). It goes once the rule is
// there; a refusal is shown in it.
type firewallBanner struct {
	box    *fyne.Container
	note   *widget.Label
	failed *widget.Label
	allow  *widget.Button
}

func newFirewallBanner(note string, allow func() error, work *background) *firewallBanner {
	b := &firewallBanner{note: widget.NewLabel(note), failed: widget.NewLabel("")}
	b.note.Wrapping = fyne.TextWrapWord
	b.note.Importance = widget.WarningImportance
	b.failed.Wrapping = fyne.TextWrapWord
	b.failed.Importance = widget.DangerImportance
	b.failed.Hide()
	b.allow = widget.NewButton("Allow pairing through the firewall", func() {
		b.allow.Disable()
		work.run(jobFirewall, func() func() {
			err := allow() // waits for the administrator prompt
			return func() {
				b.allow.Enable()
				if err == nil {
					b.box.Hide()
					return
				}
				b.failed.SetText(err.Error()) // firewall errors are sentences for the technician
				b.failed.Show()
			}
		})
	})
	rows := container.NewVBox(b.note, b.failed)
	if allow == nil {
		b.box = container.NewPadded(rows)
	} else {
		b.box = container.NewPadded(container.NewBorder(nil, nil, nil, b.allow, rows))
	}
	return b
}

// withFirewallNote puts the banner above content when there is a note.
func (w *stationWindow) withFirewallNote(content fyne.CanvasObject) fyne.CanvasObject {
	if w.opts.FirewallNote == "" {
		return content
	}
	w.firewall = newFirewallBanner(w.opts.FirewallNote, w.opts.AllowFirewall, &w.work)
	return container.NewBorder(w.firewall.box, nil, nil, nil, content)
}
