package pipe

import (
	"context"
	"encoding/json"
	"net"
	"sync"

	"adhocstation/agent/screen"
	"adhocstation/agent/support"
)

// RunHelper is a helper's side of the pipe: it announces role, answers
// the service's questions and shows what it is told through ui, and passes
// on ui's end request. It returns when the service is done with it (the
// session runs, for a setup helper; a final message; the pipe closes).
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
	if err := send(frame{Hello: role, CanChat: chat != nil}); err != nil {
		return err
	}
	stop := make(chan struct{})
	defer close(stop)
	end := ui.EndRequested()
	viewer, _ := ui.(support.Viewer)
	if role != RoleTray {
		end = nil // only a tray ends the session or stops viewing
		viewer = nil
	}
	if viewer != nil {
		go passStopViewing(viewer, stop, func() { _ = send(frame{StopView: true}) })
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
				return nil
			}
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

// AnswerSetup is the setup helper's side of the pipe (support.Setup's
// Answer).
func AnswerSetup(ctx context.Context, conn net.Conn, ui support.UI) error {
	return RunHelper(ctx, conn, RoleSetup, ui)
}

// passStopViewing sends each "stop viewing" the user asks for until stop.
func passStopViewing(v support.Viewer, stop <-chan struct{}, send func()) {
	for {
		select {
		case <-stop:
			return
		case <-v.StopViewingRequested():
			send()
		}
	}
}

// ErrServiceGone means the pipe closed before the service said it was done;
// the screen helper's is the same error.
var ErrServiceGone = screen.ErrServiceGone
