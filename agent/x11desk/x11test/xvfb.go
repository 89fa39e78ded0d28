//go:build linux

// Package x11test is the other end of the remote screen in tests: a
// virtual X display (Xvfb) and a program on it that draws known pixels
// and records the clicks and text it receives. The agent's and the
// station's end-to-end tests both use it; it is a normal package so tests
// of other packages can import it.
package x11test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Xvfb is a running virtual X server.
type Xvfb struct {
	Display string // ":N"
	cmd     *exec.Cmd
	done    chan struct{}
	once    sync.Once
}

// StartXvfb starts Xvfb with one width×height 24-bit screen (extra
// arguments follow, e.g. "+xinerama"), and returns once it accepts
// clients: Xvfb picks a free display itself and writes its number to
// -displayfd only then, so nothing races its start. It fails after
// deadline with Xvfb's log.
func StartXvfb(width, height int, deadline time.Duration, extra ...string) (*Xvfb, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	args := append([]string{"-displayfd", "3", "-screen", "0", fmt.Sprintf("%dx%dx24", width, height),
		"-nolisten", "tcp", "-noreset"}, extra...)
	cmd := exec.Command("Xvfb", args...)
	var log bytes.Buffer
	var logMu sync.Mutex
	cmd.Stdout, cmd.Stderr = &syncWriter{&log, &logMu}, &syncWriter{&log, &logMu}
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("Xvfb could not start (is the xvfb package installed?): %w", err)
	}
	w.Close()
	x := &Xvfb{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(x.done) }()
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	fail := func(why string) error {
		x.Close()
		logMu.Lock()
		defer logMu.Unlock()
		return fmt.Errorf("Xvfb %s; its log:\n%s", why, log.String())
	}
	select {
	case n := <-got:
		if n == "" {
			<-x.done
			return nil, fail("exited before it accepted clients")
		}
		x.Display = ":" + n
		return x, nil
	case <-time.After(deadline):
		return nil, fail(fmt.Sprintf("did not accept clients within %v", deadline))
	}
}

type syncWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Close stops the server and waits for it.
func (x *Xvfb) Close() {
	x.once.Do(func() {
		_ = x.cmd.Process.Signal(os.Interrupt)
		select {
		case <-x.done:
		case <-time.After(5 * time.Second):
			_ = x.cmd.Process.Kill()
			<-x.done
		}
	})
}

// CPUTime is the server's user and system time so far (Linux /proc), for
// benchmarks that say where the time went.
func (x *Xvfb) CPUTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", x.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name in parentheses: utime and stime are
	// the 12th and 13th, in clock ticks (100 a second on Linux).
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("unexpected /proc stat %q", s)
	}
	var utime, stime int64
	fmt.Sscan(fields[11], &utime)
	fmt.Sscan(fields[12], &stime)
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}
