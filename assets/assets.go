// Package assets holds the files embedded in the station: the icon, the
// invitation email templates, the deployment page and the Windows build of
// the Support Session app (placed in agent/ by `make agent`).
package assets

import "embed"

// FS is every embedded asset, addressed by its path below assets/.
//
//go:embed icon.png email web agent
var FS embed.FS

// Icon is the application icon (PNG).
//
//go:embed icon.png
var Icon []byte
