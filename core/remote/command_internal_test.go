package remote

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"testing"

	"adhocstation/core/wire"
)

// endlessLinePC accepts a command stream, then sends one output line that
// never ends (up to limit bytes), and reports how many bytes the station
// took before it stopped reading.
type endlessLinePC struct {
	limit int
	took  chan int
}

func (p endlessLinePC) Open() (net.Conn, error) {
	st, pc := net.Pipe()
	go func() {
		defer pc.Close()
		if _, err := bufio.NewReader(pc).ReadSlice('\n'); err != nil {
			p.took <- 0
			return
		}
		if _, err := pc.Write([]byte("{\"ok\":true}\n{\"out\":\"")); err != nil {
			p.took <- 0
			return
		}
		chunk := bytes.Repeat([]byte("y"), 64<<10)
		sent := 0
		for sent < p.limit {
			n, err := pc.Write(chunk)
			sent += n
			if err != nil {
				break
			}
		}
		p.took <- sent
	}()
	return st, nil
}

// A PC that sends output with no newline (512 MiB went to the heap
// before) is cut off once the line passes wire.MaxCommandLine, with a
// sentence saying so, instead of being read to the end.
func TestRunRefusesAnEndlessOutputLine(t *testing.T) {
	pc := endlessLinePC{limit: 64 << 20, took: make(chan int, 1)}
	r := &RemoteSession{open: pc}
	shown := 0
	err := r.Run(context.Background(), wire.ShellCmd, "type huge.log", func(b []byte) { shown += len(b) })
	if !errors.Is(err, ErrCommandLineTooLong) {
		t.Errorf("Run returned %v, want ErrCommandLineTooLong", err)
	}
	took := <-pc.took
	// net.Pipe has no buffer: what the PC wrote is what the station read.
	if most := wire.MaxCommandLine + 128<<10; took > most {
		t.Errorf("the station read %d bytes of one line before stopping; at most %d expected", took, most)
	}
	if shown != 0 {
		t.Errorf("%d bytes of a line that never ended were shown", shown)
	}
}
