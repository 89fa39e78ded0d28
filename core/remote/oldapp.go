package remote

import (
	"slices"

	"adhocstation/core/refusal"
	"adhocstation/core/wire"
)

// An older Support Session app serves only the streams it was built with.
// It does not say so: it takes an attach it does not know for a command
// without one and answers that the session is closed, although the
// remote session's own stream is open. Newer apps list what they serve in
// the sign-in's answer (SignInResult.Streams), so a refused attach of a
// kind the PC did not list is the older app's refusal, and the technician
// is told that instead of a closed connection.

// The refusals of a tab the PC's app is too old for.
var (
	ErrOldAppChat = refusal.New("old_app_chat", "This PC's Support Session app is older and has no chat; "+
		"phone the user, or end this session and prepare a new one so they download the current app.")
	ErrOldAppFiles = refusal.New("old_app_files", "This PC's Support Session app is older and has no file transfer; "+
		"use the Command tab, or end this session and prepare a new one so the user downloads the current app.")
	ErrOldAppScreen = refusal.New("old_app_screen", "This PC's Support Session app is older and cannot show its screen; "+
		"use your own remote desktop tool as AdHocRemoteUser, or end this session and prepare a new one so the user downloads the current app.")
)

var oldAppRefusals = map[string]*refusal.Error{wire.StreamChat: ErrOldAppChat, wire.StreamFiles: ErrOldAppFiles, wire.StreamScreen: ErrOldAppScreen}

// Serves reports whether the PC's app said at sign-in that it serves
// streams of kind (wire.StreamChat, ...). Commands are served by every app.
func (r *RemoteSession) Serves(kind string) bool {
	return kind == wire.StreamCommand || slices.Contains(r.streams, kind)
}

// streamKind is the kind of attached stream req opens.
func streamKind(req wire.SignIn) string {
	switch {
	case req.Chat != nil:
		return wire.StreamChat
	case req.Files != nil:
		return wire.StreamFiles
	case req.Screen != nil:
		return wire.StreamScreen
	}
	return wire.StreamCommand
}

// attachRefused is why an attach of kind was refused (err: the exchange
// failed; else res is the PC's answer): the older app's refusal when the
// PC did not list kind, nil when the caller's own answer stands.
func (r *RemoteSession) attachRefused(kind string, res wire.SignInResult, err error) error {
	if r.closed.Load() || r.Serves(kind) || err == nil && res.Code != wire.CodeSessionClosed {
		return nil
	}
	return oldAppRefusals[kind]
}
