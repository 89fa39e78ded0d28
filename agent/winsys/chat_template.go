package winsys

import (
	"strings"
	"time"

	"adhocstation/core/wire"
)

// The user's chat window (chat_windows.go) is a modeless dialog; its
// template and its transcript's text are built here, without Windows
// calls, so they are tested on Linux too.

// Control IDs and styles of the chat window (winuser.h).
const (
	idChatTranscript = 200
	idChatEntry      = 201
	esMultiline      = 0x4
	esAutoVScroll    = 0x40
	esReadOnly       = 0x800
	wsVScroll        = 0x00200000
	wsMinimizeBox    = 0x00020000
	wsExAppWindow    = 0x40000
	chatTitle        = "Chat with your technician — Ad Hoc Support Session"
)

// chatTemplate is the chat window: the read-only transcript, a one-line
// entry and Send, the default button, so Enter in the entry sends.
func chatTemplate() []uint16 {
	items := []dlgItem{
		// The entry is the first tab stop: the window opens ready to type.
		{wsChild | wsVisible | wsBorder | wsTabStop | esAutoHScroll, 7, 163, 228, 14, idChatEntry, 0x81, ""},
		{wsChild | wsVisible | wsTabStop | bsDefPushButton, 240, 163, 53, 14, idOK, 0x80, "Send"},
		{wsChild | wsVisible | wsBorder | wsVScroll | esMultiline | esReadOnly | esAutoVScroll, 7, 7, 286, 150, idChatTranscript, 0x81, ""},
	}
	// The app window style puts it on the taskbar, where it can flash.
	return dialogTemplate(wsPopup|wsCaption|wsSysMenu|wsMinimizeBox|dsCenter, wsExAppWindow, chatTitle, 300, 184, items)
}

// chatLines is how m reads in the transcript (an edit control: CR LF line
// breaks): "Ana Tech, 14:05:" then the text indented, or a notice.
func chatLines(m wire.ChatMessage, own bool) string {
	if m.Notice != "" {
		return "(" + m.Notice + ")\r\n\r\n"
	}
	who := m.From
	if own {
		who = "You"
	}
	at := m.At
	if at.IsZero() {
		at = time.Now()
	}
	text := strings.ReplaceAll(m.Text, "\n", "\r\n    ")
	return who + ", " + at.Local().Format("15:04") + ":\r\n    " + text + "\r\n\r\n"
}
