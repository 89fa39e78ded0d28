package winsys

import (
	"testing"
	"time"
	"unicode/utf16"

	"adhocstation/core/wire"
)

// The in-memory dialog template must follow DLGTEMPLATE's layout exactly,
// or Windows refuses to show the dialog: this walks it like Windows does.
func TestCodeTemplateLayout(t *testing.T) {
	ids := walkTemplate(t, codeTemplate("Ana (ana@example.com) will read a code", "That code is not right — 4 tries left."), 5)
	if ids[idOK] != "OK" || ids[idCancel] != "Cancel" {
		t.Errorf("buttons %v", ids)
	}
	if _, ok := ids[idCodeEdit]; !ok {
		t.Error("no code field")
	}
}

// walkTemplate checks b's layout as Windows reads it and returns the
// items' texts by control ID.
func walkTemplate(t *testing.T, b []uint16, want int) map[uint16]string {
	t.Helper()
	dword := func(i int) uint32 { return uint32(b[i]) | uint32(b[i+1])<<16 }
	str := func(i int) (string, int) {
		j := i
		for b[j] != 0 {
			j++
		}
		return string(utf16.Decode(b[i:j])), j + 1
	}
	if style := dword(0); style&dsSetFont == 0 || style&wsPopup == 0 {
		t.Fatalf("dialog style %#x", style)
	}
	count := int(b[4])
	if count != want || b[9] != 0 || b[10] != 0 {
		t.Fatalf("items %d, menu %d, class %d", count, b[9], b[10])
	}
	title, i := str(11)
	if title == "" || b[i] != 9 {
		t.Fatalf("title %q, point size %d", title, b[i])
	}
	font, i := str(i + 1)
	if font != "Segoe UI" {
		t.Fatalf("font %q", font)
	}
	ids := map[uint16]string{}
	for n := 0; n < count; n++ {
		if i%2 == 1 {
			i++ // items start on a DWORD boundary (2 uint16s)
		}
		if i%2 != 0 {
			t.Fatalf("item %d at uint16 %d is not DWORD aligned", n, i)
		}
		if dword(i)&(wsChild|wsVisible) != wsChild|wsVisible {
			t.Errorf("item %d style %#x", n, dword(i))
		}
		// style, extended style (2 DWORDs), x, y, cx, cy, id, 0xffff, class atom
		id, class := b[i+8], b[i+10]
		if b[i+9] != 0xffff || class < 0x80 || class > 0x82 {
			t.Fatalf("item %d class %#x %#x", n, b[i+13], class)
		}
		var text string
		text, i = str(i + 11)
		ids[id] = text
		if b[i] != 0 {
			t.Fatalf("item %d has creation data", n)
		}
		i++
	}
	if i != len(b) {
		t.Errorf("%d uint16s left over", len(b)-i)
	}
	return ids
}

// The chat window's template: the transcript, the entry and Send.
func TestChatTemplateLayout(t *testing.T) {
	ids := walkTemplate(t, chatTemplate(), 3)
	if ids[idOK] != "Send" {
		t.Errorf("buttons %v", ids)
	}
	for _, id := range []uint16{idChatTranscript, idChatEntry} {
		if _, ok := ids[id]; !ok {
			t.Errorf("no control %d", id)
		}
	}
}

// A message reads with its sender and time, line breaks as CR LF.
func TestChatLines(t *testing.T) {
	at := time.Date(2026, 12, 1, 14, 5, 0, 0, time.Local)
	got := chatLines(wire.ChatMessage{Text: "Hello\nAnna", From: "Ana Tech", At: at}, false)
	if got != "Ana Tech, 14:05:\r\n    Hello\r\n    Anna\r\n\r\n" {
		t.Errorf("technician's message %q", got)
	}
	if got := chatLines(wire.ChatMessage{Text: "Yes", At: at}, true); got != "You, 14:05:\r\n    Yes\r\n\r\n" {
		t.Errorf("own message %q", got)
	}
	if got := chatLines(wire.ChatMessage{Notice: wire.ChatNotOpenText}, false); got != "("+wire.ChatNotOpenText+")\r\n\r\n" {
		t.Errorf("notice %q", got)
	}
}
