package pipe

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"

	"adhocstation/agent/screen"
	"adhocstation/agent/support"
)

// RunHelper is a helper's side of the pipe: it announces role, answers
// the service's questions and shows what it is told through ui, and passes
// on ui's end request. It returns when the service is done with it: nil
// once the session runs (for a setup helper); for a final message, a
// support.ErrRefused error when it tells of a failure, support.ErrCancelled
// when a setup helper is told nothing was started (declined, no code), nil
// otherwise; ErrServiceGone when the pipe closes first.
func RunHelper(ctx context.Context, conn net.Conn, role string, ui support.UI) error {
	defer conn.Close()
	var wmu sync.Mutex
	send := func(f frame) error {
		wmu.Lock()
		defer wmu.Unlock()
		return json.NewEncoder(conn).Encode(f)
	}
	chat, _ := ui.(ChatUI)
	if role != RoleTray {
		chat = nil // only a tray shows the chat
	}
	var sent <-chan string
	if chat != nil {
		sent = chat.ChatSent()
	}
	end := ui.EndRequested()
	viewer, _ := ui.(support.Viewer)
	activity, _ := ui.(support.ActivityViewer)
	if role != RoleTray {
		activity = nil
		end = nil // only a tray ends the session or stops viewing
		viewer = nil
	}
	// The first "stop viewing" is asked for before the hello: a stop the
	// user chooses once the service knows this tray is never missed (a
	// goroutine that asked only when it first ran could get the channel
	// after the stop closed it, and the view went on).
	var stopViewing <-chan struct{}
	if viewer != nil {
		stopViewing = viewer.StopViewingRequested()
	}
	if err := send(frame{Hello: role, CanChat: chat != nil}); err != nil {
		return err
	}
	stop := make(chan struct{})
	defer close(stop)
	if viewer != nil {
		go passStopViewing(viewer, stopViewing, stop, func() { _ = send(frame{StopView: true}) })
	}
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				conn.Close()
				return
			case <-end:
				_ = send(frame{End: true})
			case text := <-sent:
				_ = send(frame{Chat: &chatLine{Text: text}})
			}
		}
	}()
	dec := json.NewDecoder(conn)
	for {
		var f frame
		if err := dec.Decode(&f); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return ErrServiceGone
		}
		switch {
		case f.Status != nil:
			ui.ShowStatus(*f.Status)
		case f.Viewing != nil:
			if viewer != nil {
				viewer.Viewing(f.Viewing.Who, f.Viewing.On)
			}
		case f.Tell != nil:
			ui.Tell(*f.Tell)
			if f.Tell.Final {
				return finalOutcome(role, *f.Tell)
			}
		case f.Activity != nil && activity != nil:
			activity.ActivityUpdated(*f.Activity)
		case f.Chat != nil && chat != nil:
			chat.ShowChat(*f.Chat)
		case f.Consent != nil:
			ok, err := ui.Consent(ctx, *f.Consent)
			if err := send(frame{Agree: ok && err == nil, Cancel: err != nil}); err != nil {
				return err
			}
		case f.Code != nil:
			code, err := ui.AskCode(ctx, *f.Code)
			if err := send(frame{Answer: code, Cancel: err != nil}); err != nil {
				return err
			}
		case f.SetupDone && role == RoleSetup:
			return nil
		}
	}
}

// finalOutcome is what a final message means for the helper's exit code:
// setup exits 1 on a failure and 2 when nothing was started, as the README
// promises, never 0 (that is for a session the service runs).
func finalOutcome(role string, m support.Message) error {
	switch {
	case m.Error:
		return fmt.Errorf("%w: %s", support.ErrRefused, m.Text)
	case role == RoleSetup:
		return support.ErrCancelled
	}
	return nil
}

// AnswerSetup is the setup helper's side of the pipe (support.Setup's
// Answer).
func AnswerSetup(ctx context.Context, conn net.Conn, ui support.UI) error {
	return RunHelper(ctx, conn, RoleSetup, ui)
}

// passStopViewing sends each "stop viewing" the user asks for until stop;
// requested is the first one's channel.
func passStopViewing(v support.Viewer, requested, stop <-chan struct{}, send func()) {
	for {
		select {
		case <-stop:
			return
		case <-requested:
			send()
			requested = v.StopViewingRequested()
		}
	}
}

// ErrServiceGone means the pipe closed before the service said it was done;
// the screen helper's is the same error.
var ErrServiceGone = screen.ErrServiceGone
