package core

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"adhocstation/core/record"
	"adhocstation/core/refusal"
	"adhocstation/core/remote"
	"adhocstation/core/wire/landing"
)

// Session recording (core/record): every remote session, while Settings
// say so, goes to one sealed file in the data folder's recordings folder.
// Its start and its SHA-256 once sealed are entered in the audit chain, so
// Verify integrity can tell a changed, replaced or deleted recording; the
// station deletes recordings older than the retention period (Tick).

const (
	// DefaultRetention is how long recordings are kept on a new station.
	DefaultRetention = 30 * 24 * time.Hour
	// MaxRetention bounds the retention setting (ten years).
	MaxRetention = 3650 * 24 * time.Hour
	// RecordingsFolder is the data folder's folder of recordings.
	RecordingsFolder = "recordings"
	// pruneEvery is how often Tick looks for recordings past retention.
	pruneEvery = time.Hour
	// recordingWait bounds Close's wait for recordings still being sealed.
	recordingWait = 10 * time.Second
)

// EventRecording is published when a recording starts, stops, is saved or
// is deleted.
const EventRecording EventKind = "recording"

// The audit events of recordings; each detail starts with the file name.
const (
	AuditRecordingStarted = "recording started"
	AuditRecordingSaved   = "recording saved"
	AuditRecordingStopped = "recording stopped"
	AuditRecordingDeleted = "recording deleted"
	AuditRecordingFailed  = "recording not started"
)

// Refusals about recordings. Each names the recording in its sentence.
var (
	ErrRecordingUnknown  = refusal.New("recording_unknown", "The audit log has no recording of that name. Open recordings from the Activity page.")
	ErrRecordingMissing  = refusal.New("recording_missing", "The recording's file is missing, and the station did not delete it: someone removed it. The audit log keeps its checksum; tell whoever looks after the station.")
	ErrRecordingChanged  = refusal.New("recording_changed", "The recording was changed after it was saved: its checksum differs from the one in the audit log. Do not rely on it; keep the file and tell whoever looks after the station.")
	ErrRecordingDeleted  = refusal.New("recording_deleted", "The recording was deleted by the station after the retention period in Settings.")
	ErrRecordingUnsealed = refusal.New("recording_unsealed", "The recording was never sealed: the session is still open, or the station stopped during it. What it holds can be played, but its checksum is not in the audit log.")
)

// Recording is one session recording as the audit log tells it.
type Recording struct {
	Name      string // the file's name in the recordings folder
	SessionID int64
	Started   time.Time
	Saved     bool // sealed, with its SHA-256 in the audit log
	Complete  bool // it recorded the whole session (no early stop)
	Size      int64
	SHA256    string
	Stopped   string // why it stopped early, "" when it did not
	Deleted   bool   // removed after the retention period
}

// recordings is the Station's state about recordings.
type recordings struct {
	wg        sync.WaitGroup // recordings not yet sealed
	mu        sync.Mutex
	lastPrune time.Time
	active    map[*record.Recorder]bool // closed by the station's Close
}

// closeAll ends every recording still running: the station is closing,
// and a session whose window was not closed first is sealed all the same.
func (r *recordings) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for rec := range r.active {
		rec.Close()
	}
}

// recordSealer seals a recording's file key with the station key.
type recordSealer struct{ k keys }

func (r recordSealer) Seal(p, aad []byte) ([]byte, error) { return r.k.sealWith(p, aad) }
func (r recordSealer) Open(s, aad []byte) ([]byte, error) { return r.k.unsealWith(s, aad) }

func (s *Station) recordingsDir() string { return filepath.Join(s.dir, RecordingsFolder) }

// recordingName is session-<id>-<UTC start>-<random>.ahsrec: the start in
// the name is what retention goes by.
func (s *Station) recordingName(sessionID int64) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("session-%d-%s-%s%s", sessionID, s.now().Format("20060102-150405"), hex.EncodeToString(b), record.Ext)
}

var nameRE = regexp.MustCompile(`^session-(\d+)-(\d{8}-\d{6})-[0-9a-f]{6}\.ahsrec$`)

// startRecording makes r recorded when Settings say so. A recording that
// cannot start is audited and the session goes on unrecorded.
func (s *Station) startRecording(ctx context.Context, sess Session, r *remote.RemoteSession) {
	s.startRecordingFor(ctx, sess.ProfileID, sess.ID, record.Meta{SessionID: sess.ID, Computer: sess.Computer.Hostname,
		Technician: sess.ProfileName, Started: s.now()}, r)
}

// startRecordingFor records r under this station's session sessionID
// (0: a session of another station of the team, whose audit rows carry
// no session here), described by meta.
func (s *Station) startRecordingFor(ctx context.Context, profileID, sessionID int64, meta record.Meta, r *remote.RemoteSession) {
	set, err := s.Settings(ctx)
	if err != nil || !set.Recording.Enabled {
		return
	}
	name := s.recordingName(sessionID)
	path := filepath.Join(s.recordingsDir(), name)
	auditRec := func(event, detail string) {
		err := s.write(context.Background(), func(tx *sql.Tx) error {
			return s.audit(tx, profileID, sessionID, event, name+": "+detail)
		})
		if err != nil {
			s.log.Error("recording audit failed", "event", event, "recording", name, "err", err)
		}
		s.publish(Event{Kind: EventRecording, SessionID: sessionID, Detail: event})
	}
	err = os.MkdirAll(s.recordingsDir(), 0o700)
	var w *record.Writer
	if err == nil {
		w, err = record.Create(path, recordSealer{s.keys}, meta)
	}
	if err != nil {
		why := err.Error()
		if landing.DiskFull(err) {
			why = "the station's disk is full"
		}
		s.log.Error("recording could not start", "recording", name, "err", err)
		auditRec(AuditRecordingFailed, why+"; the session goes on unrecorded")
		return
	}
	auditRec(AuditRecordingStarted, meta.Technician+" on "+meta.Computer)
	s.rec.wg.Add(1)
	var rec *record.Recorder
	rec = record.Start(w, path, record.Options{
		OnStop: func(err error) {
			text, _ := refusal.Text(err)
			auditRec(AuditRecordingStopped, text)
		},
		OnDone: func(sum record.Summary, complete bool) {
			defer s.rec.wg.Done()
			s.rec.mu.Lock()
			delete(s.rec.active, rec)
			s.rec.mu.Unlock()
			detail := fmt.Sprintf("%d bytes, SHA-256 %s, %s long", sum.Size, sum.SHA256, sum.Length.Round(time.Second))
			if !complete {
				detail = fmt.Sprintf("%d bytes, SHA-256 %s, incomplete (recording stopped early)", sum.Size, sum.SHA256)
			}
			auditRec(AuditRecordingSaved, detail)
		},
	})
	s.rec.mu.Lock()
	if s.rec.active == nil {
		s.rec.active = map[*record.Recorder]bool{}
	}
	s.rec.active[rec] = true
	s.rec.mu.Unlock()
	r.SetRecorder(rec)
}

// WaitRecordings waits until every recording of a closed remote session is
// sealed and entered in the audit log, or ctx ends.
func (s *Station) WaitRecordings(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.rec.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var savedRE = regexp.MustCompile(`^(\d+) bytes, SHA-256 ([0-9a-f]{64}), (.*)$`)

// Recordings lists the recordings of a session (all when sessionID is 0)
// from the audit log, newest first.
func (s *Station) Recordings(ctx context.Context, sessionID int64) ([]Recording, error) {
	q := `SELECT at, session_id, event, detail FROM audit WHERE event LIKE 'recording %'`
	args := []any{}
	if sessionID != 0 {
		q += ` AND session_id = ?`
		args = append(args, sessionID)
	}
	rows, err := s.rdb.QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byName := map[string]*Recording{}
	var order []string
	for rows.Next() {
		var at sql.NullInt64
		var sid int64
		var event, detail string
		if err := rows.Scan(&at, &sid, &event, &detail); err != nil {
			return nil, err
		}
		name, rest, ok := strings.Cut(detail, ": ")
		if !ok || !nameRE.MatchString(name) {
			continue
		}
		r := byName[name]
		if r == nil {
			if event == AuditRecordingFailed {
				continue
			}
			r = &Recording{Name: name, SessionID: sid, Started: fromMS(at)}
			byName[name] = r
			order = append(order, name)
		}
		switch event {
		case AuditRecordingSaved:
			if m := savedRE.FindStringSubmatch(rest); m != nil {
				r.Saved, r.SHA256 = true, m[2]
				r.Size, _ = strconv.ParseInt(m[1], 10, 64)
				r.Complete = !strings.HasPrefix(m[3], "incomplete")
			}
		case AuditRecordingStopped:
			r.Stopped = rest
		case AuditRecordingDeleted:
			r.Deleted = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Recording, 0, len(order))
	for i := len(order) - 1; i >= 0; i-- {
		out = append(out, *byName[order[i]])
	}
	return out, nil
}

// RecordingName is the recording an audit entry is about, if any.
func RecordingName(e AuditEntry) (string, bool) {
	if !strings.HasPrefix(e.Event, "recording ") {
		return "", false
	}
	name, _, _ := strings.Cut(e.Detail, ": ")
	return name, nameRE.MatchString(name)
}

// recording finds one recording by name.
func (s *Station) recording(ctx context.Context, name string) (Recording, error) {
	if !nameRE.MatchString(name) {
		return Recording{}, ErrRecordingUnknown
	}
	m := nameRE.FindStringSubmatch(name)
	id, _ := strconv.ParseInt(m[1], 10, 64)
	all, err := s.Recordings(ctx, id)
	if err != nil {
		return Recording{}, err
	}
	for _, r := range all {
		if r.Name == name {
			return r, nil
		}
	}
	return Recording{}, ErrRecordingUnknown
}

// OpenRecording opens a recording for playback. Refusals:
// ErrRecordingUnknown, ErrRecordingDeleted, ErrRecordingMissing, and
// core/record's (ErrTampered, ErrNotRecording). An unsealed or changed
// recording opens; VerifyRecording says what is wrong with it.
func (s *Station) OpenRecording(ctx context.Context, name string) (*record.File, Recording, error) {
	r, err := s.recording(ctx, name)
	if err != nil {
		return nil, r, err
	}
	f, err := record.Open(filepath.Join(s.recordingsDir(), name), recordSealer{s.keys})
	if errors.Is(err, os.ErrNotExist) {
		if r.Deleted {
			return nil, r, recordingError(ErrRecordingDeleted, r)
		}
		return nil, r, recordingError(ErrRecordingMissing, r)
	}
	return f, r, err
}

// recordingError is refused's sentence about r.
func recordingError(refused *refusal.Error, r Recording) error {
	return &refusal.Error{Code: refused.Code, Message: fmt.Sprintf("Recording of session #%d started %s UTC: %s",
		r.SessionID, r.Started.UTC().Format("2 Jan 2006 15:04"), lowerFirst(refused.Message))}
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// VerifyRecording checks a recording against the audit log and its own
// seals: nil when it is the file that was saved and every record opens.
// Refusals: ErrRecordingUnknown, ErrRecordingMissing, ErrRecordingDeleted,
// ErrRecordingUnsealed, ErrRecordingChanged, record.ErrTampered.
func (s *Station) VerifyRecording(ctx context.Context, name string) error {
	r, err := s.recording(ctx, name)
	if err != nil {
		return err
	}
	path := filepath.Join(s.recordingsDir(), name)
	sum, _, err := record.FileSHA256(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && r.Deleted:
		return recordingError(ErrRecordingDeleted, r)
	case errors.Is(err, os.ErrNotExist):
		return recordingError(ErrRecordingMissing, r)
	case err != nil:
		return err
	case !r.Saved:
		return recordingError(ErrRecordingUnsealed, r)
	case sum != r.SHA256:
		return recordingError(ErrRecordingChanged, r)
	}
	f, err := record.Open(path, recordSealer{s.keys})
	if err != nil {
		return recordingError(record.ErrTampered, r)
	}
	defer f.Close()
	if err := f.Verify(); err != nil && (r.Complete || !errors.Is(err, record.ErrUnfinished)) {
		return recordingError(record.ErrTampered, r)
	}
	return nil
}

// RecordingProblem is a recording that failed VerifyRecordings.
type RecordingProblem struct {
	Recording Recording
	Err       error
}

// VerifyRecordings checks every recording the audit log knows of that the
// station did not delete, and lists those that fail: changed, missing or
// damaged. Recordings being written are left out.
func (s *Station) VerifyRecordings(ctx context.Context) ([]RecordingProblem, error) {
	all, err := s.Recordings(ctx, 0)
	if err != nil {
		return nil, err
	}
	var out []RecordingProblem
	for _, r := range all {
		if r.Deleted || !r.Saved {
			if !r.Saved && !r.Deleted {
				if _, err := os.Stat(filepath.Join(s.recordingsDir(), r.Name)); errors.Is(err, os.ErrNotExist) {
					out = append(out, RecordingProblem{r, recordingError(ErrRecordingMissing, r)})
				}
			}
			continue
		}
		if err := s.VerifyRecording(ctx, r.Name); err != nil {
			out = append(out, RecordingProblem{r, err})
		}
	}
	return out, nil
}

// pruneRecordings deletes the recordings older than the retention period,
// at most once per pruneEvery, auditing each.
func (s *Station) pruneRecordings(ctx context.Context) error {
	now := s.now()
	s.rec.mu.Lock()
	if !s.rec.lastPrune.IsZero() && now.Sub(s.rec.lastPrune) < pruneEvery {
		s.rec.mu.Unlock()
		return nil
	}
	s.rec.lastPrune = now
	s.rec.mu.Unlock()
	set, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(s.recordingsDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		m := nameRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		started, err := time.Parse("20060102-150405", m[2])
		if err != nil || now.Sub(started) < set.Recording.Retention {
			continue
		}
		if err := os.Remove(filepath.Join(s.recordingsDir(), e.Name())); err != nil {
			errs = append(errs, err)
			continue
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		err = s.write(ctx, func(tx *sql.Tx) error {
			return s.audit(tx, 0, id, AuditRecordingDeleted, fmt.Sprintf("%s: older than %d days (Settings)", e.Name(), int(set.Recording.Retention.Hours()/24)))
		})
		errs = append(errs, err)
		s.publish(Event{Kind: EventRecording, SessionID: id, Detail: AuditRecordingDeleted})
	}
	return errors.Join(errs...)
}
