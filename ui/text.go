package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// plural reads like "1 session" or "3 sessions".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// sizeText reads like "512 B", "1.4 MB" or "15.9 GB": binary units, as
// Windows shows them, for a file, a drive or memory alike.
func sizeText[N int64 | uint64](n N) string {
	const kb = 1 << 10
	b := float64(n)
	switch {
	case b < kb:
		return fmt.Sprintf("%d B", n)
	case b < kb<<10:
		return fmt.Sprintf("%.1f KB", b/kb)
	case b < kb<<20:
		return fmt.Sprintf("%.1f MB", b/(kb<<10))
	}
	return fmt.Sprintf("%.1f GB", b/(kb<<20))
}

// askFirst asks on win before an action that cannot be undone (ending a
// session, replacing a file): action names its button, "Keep it" the way
// out; ok runs only on yes.
func askFirst(win fyne.Window, title, msg, action string, ok func()) {
	d := dialog.NewConfirm(title, msg, func(yes bool) {
		if yes {
			ok()
		}
	}, win)
	d.SetConfirmText(action)
	d.SetDismissText("Keep it")
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}
