package core

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"adhocstation/core/remote"
)

// Closing a remote session (the technician closed its window, or ended the
// support session) is audited beside its sign-in: who, which PC and how
// long, so the audit says when a technician's access to the PC ended.

// AuditRemoteClosed is the audit event of a closed remote session.
const AuditRemoteClosed = "remote session closed"

// EventRemoteClosed is published once a closed remote session is audited.
const EventRemoteClosed EventKind = "remote_closed"

// remoteEnds are the close audits still being written: the window's
// goroutine does not wait for the disk, the station's Close does.
type remoteEnds struct {
	mu     sync.Mutex
	closed bool // the station is closing: no new audits start
	wg     sync.WaitGroup
}

// auditOnClose makes r's Close audit the session's end; signedIn is when
// the PC accepted the password.
func (s *Station) auditOnClose(sess Session, r *remote.RemoteSession, signedIn time.Time) {
	r.OnClosed(func() {
		took := s.now().Sub(signedIn)
		detail := fmt.Sprintf("%s closed the remote session on %s after %s", sess.ProfileName, sess.Computer.Hostname, durationWords(took))
		s.auditAfterClose(sess.ProfileID, sess.ID, AuditRemoteClosed, detail, func() {
			s.publish(Event{Kind: EventRemoteClosed, SessionID: sess.ID})
		})
	})
}

// auditAfterClose writes a remote session's closing row off the closing
// goroutine (then calls written, if set), unless the station is closing;
// WaitRemoteClosed waits for it.
func (s *Station) auditAfterClose(profileID, sessionID int64, event, detail string, written func()) {
	s.ends.mu.Lock()
	if s.ends.closed {
		s.ends.mu.Unlock()
		s.log.Warn("a remote session closed after the station; not audited", "session", sessionID, "detail", detail)
		return
	}
	s.ends.wg.Add(1)
	s.ends.mu.Unlock()
	go func() {
		defer s.ends.wg.Done()
		err := s.write(context.Background(), func(tx *sql.Tx) error {
			return s.audit(tx, profileID, sessionID, event, detail)
		})
		if err != nil {
			s.log.Error("remote session close audit failed", "session", sessionID, "detail", detail, "err", err)
			return
		}
		if written != nil {
			written()
		}
	}()
}

// WaitRemoteClosed waits until every closed remote session is entered in
// the audit log, or ctx ends.
func (s *Station) WaitRemoteClosed(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.ends.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeRemoteEnds stops new close audits and waits for those started.
func (s *Station) closeRemoteEnds(ctx context.Context) error {
	s.ends.mu.Lock()
	s.ends.closed = true
	s.ends.mu.Unlock()
	return s.WaitRemoteClosed(ctx)
}

// durationWords reads like "1 h 02 min", "12 min 05 s" or "40 s".
func durationWords(d time.Duration) string {
	d = max(d.Round(time.Second), 0)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%d h %02d min", h, m)
	case m > 0:
		return fmt.Sprintf("%d min %02d s", m, sec)
	}
	return fmt.Sprintf("%d s", sec)
}
