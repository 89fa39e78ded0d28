package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// kioskTheme is Fyne's default theme, light or dark as the system says,
// with larger type and touch-friendly spacing for a shared support station
// read from a step away. Colours stay the default ones: they are legible in
// both variants, and the security code and QR take theirs from them.
type kioskTheme struct{ scale float32 }

var _ fyne.Theme = (*kioskTheme)(nil)

// kioskScale makes 14 pt body text about 18 pt.
const kioskScale = 1.3

func applyKioskTheme(a fyne.App) { a.Settings().SetTheme(&kioskTheme{scale: kioskScale}) }

func (t *kioskTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return theme.DefaultTheme().Color(n, v)
}

func (t *kioskTheme) Font(s fyne.TextStyle) fyne.Resource { return theme.DefaultTheme().Font(s) }

func (t *kioskTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

func (t *kioskTheme) Size(n fyne.ThemeSizeName) float32 {
	base := theme.DefaultTheme().Size(n)
	switch n {
	case theme.SizeNameText, theme.SizeNameHeadingText, theme.SizeNameSubHeadingText, theme.SizeNameCaptionText,
		theme.SizeNameInlineIcon, theme.SizeNamePadding, theme.SizeNameInnerPadding, theme.SizeNameLineSpacing:
		return base * t.scale
	}
	return base
}

// titleLabel is the bold sub-heading that opens a page or a group.
func titleLabel(text string) *widget.Label {
	return &widget.Label{Text: text, TextStyle: fyne.TextStyle{Bold: true}, SizeName: theme.SizeNameSubHeadingText}
}
