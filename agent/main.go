// Command AdHocSupport is the Support Session app. STUB by the lead so the
// build works; the pairing engineer replaces it.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "The Support Session app runs on Windows PCs only.")
	os.Exit(1)
}
