package winsys

// System implements support.System on Windows: files and folders in
// dirs_windows.go and install_windows.go, accounts in account_windows.go,
// sessions in sessions_windows.go, facts in facts_windows.go.
type System struct{}

// New returns the Windows system.
func New() *System { return &System{} }
