package ui

import (
	"sync"

	"adhocstation/core"
)

// background is the one way ui works off the Fyne goroutine: slow work
// (hashing, SMTP, a hash-chain walk) runs on its own goroutine and its
// result is applied on the Fyne goroutine with fyne.Do. The window's event
// delivery applies through it too. It is also the one place a test learns
// that a result is on screen, instead of a hook per screen.
type background struct {
	// hold, when set (tests), is waited on before the work starts: Fyne's
	// test driver runs fyne.Do on the calling goroutine, so a result must
	// not be applied while the tap that started the work is still running.
	hold <-chan struct{}
	// applied, when set (tests), is told each job's name on the Fyne
	// goroutine once its result is applied.
	applied func(job string)
	// mu keeps results from overlapping. On the real driver fyne.Do runs
	// them one by one on the Fyne goroutine anyway; Fyne's test driver runs
	// each on the goroutine that calls it, where a stream's results (the
	// screen's frames) would otherwise race a result applied beside them.
	mu sync.Mutex
}

// Job names, as a test waits for them.
const (
	jobPrepare   = "prepare"
	jobVerify    = "verify"
	jobTestEmail = "test email"
	jobJoinHub   = "join hub"
	jobLeaveHub  = "leave hub"
	jobTeam      = "team changed"
)

// eventJob names the delivery of one core event to every screen.
func eventJob(kind core.EventKind) string { return "event " + string(kind) }

// run calls work on a new goroutine, then applies the function it returns
// on the Fyne goroutine.
func (b *background) run(job string, work func() (apply func())) {
	hold := b.hold
	go func() {
		if hold != nil {
			<-hold
		}
		b.apply(job, work())
	}()
}

// apply runs f on the Fyne goroutine, then tells a watching test.
func (b *background) apply(job string, f func()) {
	doUI(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		f()
		if b.applied != nil {
			b.applied(job)
		}
	})
}
