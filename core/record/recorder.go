package record

import (
	"encoding/json"
	"image"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"adhocstation/core/refusal"
	"adhocstation/core/remote"
	"adhocstation/core/wire"
	"adhocstation/core/wire/frame"
	"adhocstation/core/wire/landing"
)

// Options tune a Recorder; the zero value suits a station.
type Options struct {
	// Now is the clock record times are taken from (time.Now, whose
	// monotonic reading makes them immune to clock changes).
	Now func() time.Time
	// QueueBytes bounds what waits for the disk (64 MB): past it the
	// session goes on and frames are skipped until a keyframe.
	QueueBytes int64
	// KeyBytes and KeyInterval say when a keyframe is written: after this
	// many bytes of frames (4 MB, or four times the last keyframe's size
	// if more, so keyframes add at most a quarter) or this long (60 s)
	// since the last one, whichever comes first, and only while the
	// screen changes.
	KeyBytes    int64
	KeyInterval time.Duration
	// OnStop is called once, on the Recorder's goroutine, when recording
	// stops before the session ends (a write failed: a full disk).
	OnStop func(err error)
	// OnDone is called once the file is closed after Close: its summary,
	// complete is false when recording had stopped early.
	OnDone func(s Summary, complete bool)

	// gate, in tests, holds the writer before each write until it
	// receives: a disk slower than the screen, on demand.
	gate <-chan struct{}
}

// Recorder records a remote session into a Writer without ever making the
// session wait: everything goes through a bounded queue to one goroutine
// that writes. It implements remote.Recorder.
type Recorder struct {
	w       *Writer
	path    string
	opt     Options
	start   time.Time
	ch      chan item
	queued  atomic.Int64
	keySize atomic.Int64 // the last keyframe's size, from the writer
	busy    atomic.Int64 // ns the writer spent writing (benchmarks)
	closing chan struct{}
	once    sync.Once
	done    chan struct{}
	stopped chan struct{}
	problem atomic.Pointer[error]

	// Frame's state, on the screen's reader goroutine (mu: a second
	// screen view of the same session would call it too).
	mu       sync.Mutex
	needKey  bool // frames were skipped: the next one is recorded as a keyframe
	skipped  int
	keyBytes int64
	keyAt    time.Duration
	// The picture after the last skipped frame, kept so that Close can
	// record it when no keyframe made it into the queue since.
	pending   *image.RGBA
	pendingAt time.Duration
	// What is on, under mu, so that Close records control off and viewing
	// off for whatever did not end before it (the station closing with a
	// window open); ended refuses toggles after Close.
	views   int
	control bool
	ended   bool
}

type item struct {
	typ     byte
	t       time.Duration
	payload []byte
	img     *image.RGBA // a keyframe to encode
}

var _ remote.Recorder = (*Recorder)(nil)

// queueItems bounds the queue's length as QueueBytes bounds its bytes.
const queueItems = 4096

// Start records into w (at path) until Close.
func Start(w *Writer, path string, opt Options) *Recorder {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.QueueBytes <= 0 {
		opt.QueueBytes = 64 << 20
	}
	if opt.KeyBytes <= 0 {
		opt.KeyBytes = 4 << 20
	}
	if opt.KeyInterval <= 0 {
		opt.KeyInterval = time.Minute
	}
	r := &Recorder{w: w, path: path, opt: opt, start: opt.Now(), ch: make(chan item, queueItems),
		closing: make(chan struct{}), done: make(chan struct{}), stopped: make(chan struct{})}
	go r.run()
	return r
}

// Path is the recording file's path.
func (r *Recorder) Path() string { return r.path }

// Stopped is closed when recording stopped before the session ended;
// Problem then says why.
func (r *Recorder) Stopped() <-chan struct{} { return r.stopped }

// Problem is why recording stopped early, or nil.
func (r *Recorder) Problem() error {
	if p := r.problem.Load(); p != nil {
		return *p
	}
	return nil
}

// Done is closed once the file is finished after Close.
func (r *Recorder) Done() <-chan struct{} { return r.done }

func (r *Recorder) since() time.Duration { return r.opt.Now().Sub(r.start) }

// Elapsed is the recording time now: what a record made now is stamped.
func (r *Recorder) Elapsed() time.Duration { return r.since() }

// enqueue queues it unless the queue is full or recording ended.
func (r *Recorder) enqueue(it item) bool {
	size := int64(len(it.payload)) + 64
	if it.img != nil {
		size += int64(len(it.img.Pix))
	}
	select {
	case <-r.stopped:
		return false
	case <-r.closing:
		return false
	default:
	}
	// Over the bound only when something else waits: a keyframe of a
	// screen larger than the bound still gets its turn on an empty queue,
	// and the note about skipped frames is small enough to go past it.
	if q := r.queued.Add(size); q > r.opt.QueueBytes && q != size && it.typ != TypeNote {
		r.queued.Add(-size)
		return false
	}
	select {
	case r.ch <- it:
		return true
	default:
		r.queued.Add(-size)
		return false
	}
}

func (r *Recorder) event(typ byte, v any) {
	b, err := json.Marshal(v)
	if err == nil {
		r.enqueue(item{typ: typ, t: r.since(), payload: b})
	}
}

// Frame records a frame as received; after skipped frames, or when one is
// due, it records the whole picture as a keyframe.
func (r *Recorder) Frame(payload []byte, img *image.RGBA) {
	t := r.since()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.needKey {
		if r.enqueue(item{typ: TypeKey, t: t, img: cloneRGBA(img)}) {
			r.event(TypeNote, Note{Text: plural(r.skipped) + " not recorded: the disk was too slow. The picture is whole again from here."})
			r.needKey, r.skipped, r.keyBytes, r.keyAt, r.pending = false, 0, 0, t, nil
		} else {
			r.skipped++
			r.keep(img, t)
		}
		return
	}
	if !r.enqueue(item{typ: TypeFrame, t: t, payload: append([]byte(nil), payload...)}) {
		r.needKey, r.skipped = true, 1
		r.keep(img, t)
		return
	}
	if isFull(payload) {
		r.keyBytes, r.keyAt = 0, t
		return
	}
	r.keyBytes += int64(len(payload))
	if r.keyBytes >= max(r.opt.KeyBytes, 4*r.keySize.Load()) || t-r.keyAt >= r.opt.KeyInterval {
		if r.enqueue(item{typ: TypeKey, t: t, img: cloneRGBA(img)}) {
			r.keyBytes, r.keyAt = 0, t
		}
	}
}

// keep copies the picture after a skipped frame, reusing the last copy.
func (r *Recorder) keep(img *image.RGBA, t time.Duration) {
	if r.pending == nil || r.pending.Rect != img.Rect {
		r.pending = cloneRGBA(img)
	} else {
		copy(r.pending.Pix, img.Pix)
	}
	r.pendingAt = t
}

func plural(n int) string {
	if n == 1 {
		return "1 screen frame was"
	}
	return strconv.Itoa(n) + " screen frames were"
}

func cloneRGBA(img *image.RGBA) *image.RGBA {
	c := *img
	c.Pix = append([]byte(nil), img.Pix...)
	return &c
}

// Screen records screen viewing starting or ending.
func (r *Recorder) Screen(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended || (!on && r.views == 0) {
		return
	}
	if on {
		r.views++
	} else {
		r.views--
	}
	r.event(TypeScreen, Toggle{On: on})
}

// Control records control switching on or off.
func (r *Recorder) Control(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return
	}
	r.control = on
	r.event(TypeControl, Toggle{On: on})
}

// Clipboard records clipboard text sent to or from the PC.
func (r *Recorder) Clipboard(text string, toPC bool) {
	r.event(TypeClipboard, Clipboard{Text: text, ToPC: toPC})
}

// SAS records Ctrl+Alt+Del sent.
func (r *Recorder) SAS() { r.event(TypeSAS, struct{}{}) }

// Command records a command as typed.
func (r *Recorder) Command(id int64, shell, line string) {
	r.event(TypeCommand, Command{ID: id, Shell: shell, Line: line})
}

// Output records a piece of a command's output.
func (r *Recorder) Output(id int64, text []byte) {
	r.event(TypeOutput, Output{ID: id, Text: string(text)})
}

// CommandEnd records how a command ended.
func (r *Recorder) CommandEnd(id int64, err error) {
	r.event(TypeCommandEnd, CommandEnd{ID: id, Result: errText(err)})
}

// Chat records a chat message or notice.
func (r *Recorder) Chat(m wire.ChatMessage, sent bool) {
	r.event(TypeChat, Chat{From: m.From, Text: m.Text, Notice: m.Notice, Sent: sent})
}

// Transfer records a transfer's names, size and checksum.
func (r *Recorder) Transfer(t remote.Transfer) {
	r.event(TypeTransfer, Transfer{Upload: t.Upload, Remote: t.Remote, Local: t.Local, Size: t.Size, SHA256: t.SHA256, Result: errText(t.Err)})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Close ends the recording: what is queued is written, then the index,
// and OnDone is called. It does not wait (Done does).
func (r *Recorder) Close() {
	r.once.Do(func() {
		r.mu.Lock()
		if r.needKey && r.pending != nil {
			// The last frames were skipped: record the last picture, past
			// the queue's bound (the writer drains it before finishing).
			note, _ := json.Marshal(Note{Text: plural(r.skipped) + " not recorded at the end: the disk was too slow. The last picture is whole."})
			for _, it := range []item{{typ: TypeKey, t: r.pendingAt, img: r.pending}, {typ: TypeNote, t: r.pendingAt, payload: note}} {
				select {
				case r.ch <- it:
					r.queued.Add(int64(len(it.payload)) + 64 + imgSize(it.img))
				default:
				}
			}
			r.needKey, r.pending = false, nil
		}
		// Whatever is still on ends here, control first, past the queue's
		// bound as the last picture is: a recording never ends while
		// viewing.
		var ends []item
		t := r.since()
		if r.control {
			ends = append(ends, toggle(TypeControl, t))
		}
		for range r.views {
			ends = append(ends, toggle(TypeScreen, t))
		}
		for _, it := range ends {
			select {
			case r.ch <- it:
				r.queued.Add(int64(len(it.payload)) + 64)
			default:
			}
		}
		r.ended, r.control, r.views = true, false, 0
		r.mu.Unlock()
		close(r.closing)
	})
}

// toggle is an "off" record of typ at t.
func toggle(typ byte, t time.Duration) item {
	b, _ := json.Marshal(Toggle{On: false})
	return item{typ: typ, t: t, payload: b}
}

// run is the one goroutine that writes.
func (r *Recorder) run() {
	defer close(r.done)
	for {
		select {
		case it := <-r.ch:
			r.write(it)
			continue
		default:
		}
		select {
		case it := <-r.ch:
			r.write(it)
		case <-r.closing:
			for {
				select {
				case it := <-r.ch:
					r.write(it)
					continue
				default:
				}
				break
			}
			r.finish()
			return
		}
	}
}

func (r *Recorder) write(it item) {
	if r.opt.gate != nil {
		<-r.opt.gate
	}
	start := time.Now()
	defer func() { r.busy.Add(int64(time.Since(start))) }()
	defer r.queued.Add(-(int64(len(it.payload)) + 64 + imgSize(it.img)))
	if r.Problem() != nil {
		return
	}
	payload := it.payload
	if it.img != nil {
		enc := frame.Encoder{NoJPEG: true} // exact, as the frames after it assume
		var err error
		if payload, err = enc.Encode(it.img); err != nil {
			return
		}
		r.keySize.Store(int64(len(payload)))
	}
	if err := r.w.Append(it.typ, it.t, payload); err != nil {
		r.stop(err)
	}
}

func imgSize(img *image.RGBA) int64 {
	if img == nil {
		return 0
	}
	return int64(len(img.Pix))
}

// ErrRecordingStopped matches why recording stopped early.
var ErrRecordingStopped = refusal.New("recording_stopped", "Recording stopped: the station could not write the recording. The session goes on unrecorded.")

// ErrRecordingDiskFull is why recording stopped on a full disk.
var ErrRecordingDiskFull = refusal.New("recording_disk_full", "Recording stopped: the station's disk is full. The session goes on unrecorded; free some space on the disk that holds the station's data folder before the next session.")

func (r *Recorder) stop(err error) {
	why := ErrRecordingStopped
	if landing.DiskFull(err) {
		why = ErrRecordingDiskFull
	}
	err = &refusal.Error{Code: why.Code, Message: why.Message, Err: err}
	r.problem.Store(&err)
	r.w.Abandon()
	close(r.stopped)
	if r.opt.OnStop != nil {
		r.opt.OnStop(err)
	}
}

func (r *Recorder) finish() {
	if r.Problem() != nil {
		sum, size, _ := FileSHA256(r.path)
		if r.opt.OnDone != nil {
			r.opt.OnDone(Summary{Size: size, SHA256: sum}, false)
		}
		return
	}
	s, err := r.w.Finish(r.since())
	if err != nil {
		r.stop(err)
		sum, size, _ := FileSHA256(r.path)
		s = Summary{Size: size, SHA256: sum}
	}
	if r.opt.OnDone != nil {
		r.opt.OnDone(s, err == nil)
	}
}
