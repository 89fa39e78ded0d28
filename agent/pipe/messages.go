package pipe

// The sentences the hub itself tells the helpers; the session's are in
// agent/support/messages.go.

const (
	msgSetupNotAdmin  = "Only an administrator can start a support session on this PC. Run the app again and allow it to make changes when Windows asks."
	msgAlreadyRunning = "A support session is already running on this PC (or being set up). Find the Support Session app in the notification area, next to the clock, to see it or end it."
)

const msgServiceStopping = "The Support Session service is stopping. If a session was running, it has ended or will resume after a restart."
