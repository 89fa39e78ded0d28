//go:build !windows

package main

import (
	"fmt"
	"os"
)

// run refuses: the app changes Windows accounts and nothing else.
func run(options) int {
	fmt.Fprintln(os.Stderr, "The Support Session app runs on Windows PCs only.")
	return 1
}
