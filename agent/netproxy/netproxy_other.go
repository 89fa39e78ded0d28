//go:build !windows

package netproxy

import "os"

// system has no WinHTTP here: the environment decides.
func system() Settings { return nil }

var envLookup = os.Getenv
