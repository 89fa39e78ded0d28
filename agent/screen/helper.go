package screen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"sync"

	"adhocstation/agent/applog"
	"adhocstation/core/wire"
)

// ErrServiceGone means the pipe closed before the service said it was done
// (agent/pipe's RunHelper returns it too).
var ErrServiceGone = errors.New("the Support Session service stopped answering")

// hello is a helper's first line on the service's pipe, as the service's
// pipe frame spells it: its role.
type hello struct {
	Hello string `json:"hello"`
}

// Helper is the screen helper's side of the pipe (Windows: the
// --screen role in the console session). It keeps one connection parked
// at the service and serves each stream the service hands it, next to the
// desktop, while the user is shown who is viewing.
type Helper struct {
	// Dial connects to the service's pipe.
	Dial func(ctx context.Context) (net.Conn, error)
	// Open opens the desktop for one stream.
	Open func() (Desktop, error)
	// Show tells the user that technician is viewing the screen (a border
	// and a banner with Stop); stop closes when the user presses Stop, hide
	// removes it when the stream ends.
	Show func(technician string) (stop <-chan struct{}, hide func())
	// Serve runs one stream; the package's Serve when nil.
	Serve func(rw io.ReadWriter, d Desktop, open wire.ScreenOpen, stop <-chan struct{}) error
	Log   *applog.Logger
}

// Run parks connections until the service goes away (ErrServiceGone) or
// ctx ends; streams already running end with their connection.
func (h *Helper) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := h.Dial(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return ErrServiceGone
		}
		start, r, err := h.park(ctx, conn)
		if err != nil {
			conn.Close()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return ErrServiceGone
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.serve(ctx, conn, r, start)
		}()
	}
}

// park says hello and waits for the service to hand over a stream.
func (h *Helper) park(ctx context.Context, conn net.Conn) (screenStart, *bufio.Reader, error) {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := json.NewEncoder(conn).Encode(hello{Hello: Role}); err != nil {
		return screenStart{}, nil, err
	}
	r := bufio.NewReaderSize(conn, wire.MaxStreamLine)
	line, err := r.ReadSlice('\n')
	if err != nil {
		return screenStart{}, nil, err
	}
	var start screenStart
	if err := json.Unmarshal(line, &start); err != nil {
		return screenStart{}, nil, err
	}
	return start, r, nil
}

// serve runs one stream on its own connection, until it ends or ctx does
// (the helper is exiting: the relay tells the technician).
func (h *Helper) serve(ctx context.Context, conn net.Conn, r *bufio.Reader, start screenStart) {
	defer conn.Close()
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	reply := func(v screenReady) error { return json.NewEncoder(conn).Encode(v) }
	d, err := h.Open()
	if err != nil {
		h.Log.Printf("screen for %s: %v", start.Technician, err)
		_ = reply(screenReady{Error: err.Error()})
		return
	}
	defer d.Close()
	if err := reply(screenReady{OK: true}); err != nil {
		return
	}
	h.Log.Printf("%s is viewing the screen", start.Technician)
	stop, hide := h.Show(start.Technician)
	defer hide()
	serve := h.Serve
	if serve == nil {
		serve = Serve
	}
	rw := struct {
		io.Reader
		io.Writer
	}{r, conn}
	if err := serve(rw, d, start.Open, stop); err != nil {
		h.Log.Printf("screen for %s ended: %v", start.Technician, err)
		return
	}
	h.Log.Printf("screen for %s ended", start.Technician)
}
