package record

import (
	"bytes"
	"errors"
	"image"
	"os"
	"strconv"
	"testing"
	"time"

	"adhocstation/core/remote"
	"adhocstation/core/wire"
	"adhocstation/core/wire/frame"
)

// A scripted session — typing, a stretch of video, still pauses, a
// command, chat, a transfer and control changes — recorded through the
// bounded Recorder plays back with exactly the pictures the station showed
// at each point, seeking forward and backward from keyframes; the events
// come back in order.
func TestRecordingPlaysBackWhatWasShown(t *testing.T) {
	seal, c := newSealer(t), newClock()
	rec, path, done := startRecording(t, seal, c, Options{KeyBytes: 96 << 10, KeyInterval: 5 * time.Second})
	d := newDesk(320, 200)
	s := &station{enc: frame.NewEncoder(), rec: rec, clock: c}
	shown := map[time.Duration]*image.RGBA{}
	s.send(t, d)
	for i := range 240 {
		c.Add(100 * time.Millisecond)
		switch {
		case i == 20:
			rec.Screen(true)
			rec.Control(true)
		case i == 40:
			rec.Command(1, wire.ShellPowerShell, "Get-Service spooler")
			rec.Output(1, []byte("Running  spooler  Print Spooler\n"))
			rec.CommandEnd(1, nil)
		case i == 60:
			rec.Chat(wire.ChatMessage{From: "Tom", Text: "I am restarting the printer service."}, true)
			rec.Chat(wire.ChatMessage{From: "Anna", Text: "ok"}, false)
		case i == 80:
			rec.Transfer(remote.Transfer{Remote: `C:\Users\anna\log.txt`, Local: "/tmp/log.txt", Size: 12, SHA256: "ab12"})
		case i == 190:
			rec.Clipboard("net use", true)
			rec.SAS()
		case i == 200:
			rec.Control(false)
		}
		switch {
		case i >= 100 && i < 130:
			d.video(i)
		case i >= 150 && i < 180:
			// a still screen: time passes, nothing is sent
		default:
			d.typeChar()
		}
		if s.send(t, d) > 0 && i%10 == 0 {
			shown[rec.Elapsed()] = clone(s.shown)
		}
	}
	last := rec.Elapsed()
	shown[last] = clone(s.shown)
	rec.Close()
	sum := receive(t, done, "the recording to be finished")

	f, err := Open(path, seal)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !f.Complete || f.Meta.Computer != "DESKTOP-7QK2" || f.Index.Frames == 0 {
		t.Fatalf("opened: complete %v, meta %+v, %d frames", f.Complete, f.Meta, f.Index.Frames)
	}
	if err := f.Verify(); err != nil {
		t.Fatalf("Verify of an intact recording: %v", err)
	}
	if got, size, _ := FileSHA256(path); got != sum.SHA256 || size != sum.Size {
		t.Fatalf("summary %+v; the file has %d bytes, SHA-256 %s", sum, size, got)
	}
	if len(f.Index.Keys) < 4 {
		t.Fatalf("%d keyframes; the video and the keyframe budget should make more", len(f.Index.Keys))
	}
	t.Logf("%d frames, %d keyframes, %d bytes", f.Index.Frames, len(f.Index.Keys), sum.Size)

	p := NewPlayer(f)
	// Three seek points out of order (backward too), then every picture.
	var times []time.Duration
	for at := range shown {
		times = append(times, at)
	}
	seeks := []time.Duration{last, pick(times, 0.3), pick(times, 0.6)}
	for _, at := range append(seeks, times...) {
		img, err := p.Seek(at)
		if err != nil {
			t.Fatalf("seek to %v: %v", at, err)
		}
		if img == nil || !bytes.Equal(img.Pix, shown[at].Pix) {
			t.Fatalf("the picture at %v differs from what the station showed", at)
		}
	}

	events, err := f.Events()
	if err != nil {
		t.Fatal(err)
	}
	var types []byte
	for _, e := range events {
		types = append(types, e.Type)
	}
	// The view still open at Close ends there (the last S).
	if want := "SCROEMMTPACS"; string(types) != want {
		t.Fatalf("events %q; want %q", types, want)
	}
	var cmd Command
	var tr Transfer
	if events[2].Decode(&cmd) != nil || cmd.Line != "Get-Service spooler" || events[7].Decode(&tr) != nil || tr.Size != 12 || tr.SHA256 != "ab12" {
		t.Fatalf("command %+v, transfer %+v", cmd, tr)
	}
}

// pick is the time at fraction q of the sorted times.
func pick(times []time.Duration, q float64) time.Duration {
	sorted := append([]time.Duration(nil), times...)
	for i := range sorted {
		for j := i + 1; j < len(sorted); j++ {
			if sorted[j] < sorted[i] {
				sorted[i], sorted[j] = sorted[j], sorted[i]
			}
		}
	}
	return sorted[int(q*float64(len(sorted)-1))]
}

// smallRecording records a few frames and events and returns the file.
func smallRecording(t *testing.T, seal Sealer) string {
	c := newClock()
	rec, path, done := startRecording(t, seal, c, Options{})
	d := newDesk(160, 100)
	s := &station{enc: frame.NewEncoder(), rec: rec}
	for range 20 {
		c.Add(time.Second)
		d.typeChar()
		s.send(t, d)
		rec.Command(1, wire.ShellCmd, "dir")
	}
	rec.Close()
	receive(t, done, "the recording to be finished")
	return path
}

// A byte flipped anywhere — the key, a record's head, a frame, the index,
// the footer — makes Open or Verify refuse the file; so does cutting it.
func TestFlippedByteFailsVerify(t *testing.T) {
	seal := newSealer(t)
	path := smallRecording(t, seal)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, b []byte, want ...error) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := Open(path, seal)
			if err == nil {
				err = f.Verify()
				f.Close()
			}
			if err == nil && len(want) == 0 {
				return
			}
			for _, w := range want {
				if err != nil && errors.Is(err, w) {
					return
				}
			}
			t.Fatalf("got %v; want one of %v", err, want)
		})
	}
	for _, at := range []int{0, 12, 40, len(orig) / 4, len(orig) / 2, len(orig) * 3 / 4, len(orig) - 40, len(orig) - 20, len(orig) - 10, len(orig) - 1} {
		b := bytes.Clone(orig)
		b[at] ^= 0x01
		check("flip byte "+strconv.Itoa(at), b, ErrTampered, ErrNotRecording, ErrUnfinished)
	}
	check("cut short", orig[:len(orig)-100], ErrUnfinished)
	check("intact", orig)
}

// On a full disk the Recorder stops, says why once, and takes no more: the
// session it records goes on without waiting.
func TestFullDiskStopsRecording(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full to fill: %v", err)
	}
	seal := newSealer(t)
	aead, _ := newAEAD(make([]byte, 32))
	w, err := newWriter(full, aead, []byte("sealed key"), Meta{SessionID: 2})
	if err != nil {
		t.Fatal(err)
	}
	_ = seal
	stopped := make(chan error, 1)
	rec := Start(w, "", Options{OnStop: func(err error) { stopped <- err }})
	d := newDesk(320, 200)
	s := &station{enc: frame.NewEncoder(), rec: rec}
	for i := 0; ; i++ {
		d.video(i) // ~100 KB a frame: the 256 KB buffer is written within a few
		s.send(t, d)
		select {
		case err := <-stopped:
			if !errors.Is(err, ErrRecordingDiskFull) || !errors.Is(rec.Problem(), ErrRecordingDiskFull) {
				t.Fatalf("stopped with %v (problem %v); want ErrRecordingDiskFull", err, rec.Problem())
			}
			await(t, rec.Stopped(), "Stopped to be closed")
			rec.Frame([]byte{1, 0}, d.img) // returns at once, records nothing
			rec.Close()
			await(t, rec.Done(), "the recorder to end")
			return
		default:
		}
		if i > 10_000 {
			t.Fatal("recording into a full disk never stopped")
		}
	}
}

// A disk slower than the screen: frames that do not fit the queue are
// skipped, the next one that fits is recorded as a keyframe of the whole
// picture (with a note), and frames skipped at the very end are made up
// by Close: playback shows exactly what the station showed after each gap.
func TestSlowDiskSkipsToKeyframe(t *testing.T) {
	seal, c := newSealer(t), newClock()
	// Each write takes a token from gate; feed hands them out until stopped.
	gate := make(chan struct{})
	feed := func() (stop func()) {
		quit := make(chan struct{})
		go func() {
			for {
				select {
				case gate <- struct{}{}:
				case <-quit:
					return
				}
			}
		}()
		return func() { close(quit) }
	}
	stop := func() {}
	rec, path, done := startRecording(t, seal, c, Options{QueueBytes: 512 << 10, gate: gate})
	d := newDesk(640, 400)
	s := &station{enc: frame.NewEncoder(), rec: rec}
	var mid time.Duration
	var midShown *image.RGBA
	for i := range 150 {
		c.Add(50 * time.Millisecond)
		switch {
		case i == 50:
			stop = feed() // the disk catches up
		case i == 100:
			stop() // and falls behind again until the end
		}
		if i%25 < 5 {
			d.video(i)
		} else {
			d.typeChar()
		}
		s.send(t, d)
		if i == 75 {
			mid, midShown = rec.Elapsed(), clone(s.shown)
		}
	}
	end := rec.Elapsed()
	rec.Close()
	defer feed()()
	receive(t, done, "the recording to be finished")
	f, err := Open(path, seal)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Verify(); err != nil {
		t.Fatal(err)
	}
	p := NewPlayer(f)
	for _, c := range []struct {
		at   time.Duration
		want *image.RGBA
	}{{mid, midShown}, {end, s.shown}} {
		img, err := p.Seek(c.at)
		if err != nil || img == nil || !bytes.Equal(img.Pix, c.want.Pix) {
			t.Fatalf("at %v the picture played back differs from the one shown (%v)", c.at, err)
		}
	}
	events, _ := f.Events()
	notes := 0
	for _, e := range events {
		if e.Type == TypeNote {
			notes++
		}
	}
	if f.Index.Frames >= 150 || notes < 2 { // a gap in the middle, one at the end
		t.Fatalf("%d of 150 frames recorded, %d notes: the slow disk skipped nothing", f.Index.Frames, notes)
	}
	t.Logf("%d of 150 frames recorded, %d keyframes, %d notes", f.Index.Frames, len(f.Index.Keys), notes)
}

// A recorder closed while viewing with control on records control off and
// viewing off before the seal, and nothing about the screen after it.
func TestCloseEndsOpenViewing(t *testing.T) {
	seal, c := newSealer(t), newClock()
	rec, path, done := startRecording(t, seal, c, Options{})
	rec.Screen(true)
	rec.Control(true)
	rec.Screen(false) // a spurious end: one view was open, and stays counted right
	rec.Screen(true)
	c.Add(time.Second)
	rec.Close()
	rec.Control(false) // after Close: too late, and not recorded twice
	rec.Screen(false)
	receive(t, done, "the recording to be finished")
	f, err := Open(path, seal)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events, err := f.Events()
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, e := range events {
		var tg Toggle
		if e.Decode(&tg) != nil {
			t.Fatal(err)
		}
		got += string(e.Type) + map[bool]string{true: "+", false: "-"}[tg.On] + " "
	}
	if want := "S+ C+ S- S+ C- S- "; got != want {
		t.Fatalf("events %q; want %q", got, want)
	}
}
