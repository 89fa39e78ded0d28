//go:build linux

package x11desk

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// clipboardWait bounds waiting for the clipboard's owner to answer.
const clipboardWait = 2 * time.Second

// maxClipboard bounds the text read from another program's clipboard.
const maxClipboard = 4 << 20

// clipboard is the CLIPBOARD selection seen through a hidden window:
// SetClipboard makes this connection its owner and answers other
// programs' requests; Clipboard asks the owner for UTF8_STRING.
type clipboard struct {
	conn *xgb.Conn
	win  xproto.Window

	atomClipboard, atomUTF8, atomTargets, atomString, atomText, atomProp xproto.Atom

	mu      sync.Mutex
	owned   bool
	text    string
	waiting chan xproto.SelectionNotifyEvent
	gone    bool
}

func (c *clipboard) start(conn *xgb.Conn, root xproto.Window, visual xproto.Visualid) error {
	c.conn = conn
	win, err := xproto.NewWindowId(conn)
	if err != nil {
		return err
	}
	c.win = win
	err = xproto.CreateWindowChecked(conn, 0, win, root, -10, -10, 1, 1, 0,
		xproto.WindowClassInputOnly, visual, xproto.CwEventMask,
		[]uint32{xproto.EventMaskPropertyChange}).Check()
	if err != nil {
		return fmt.Errorf("the clipboard window could not be created: %w", err)
	}
	for name, dst := range map[string]*xproto.Atom{"CLIPBOARD": &c.atomClipboard, "UTF8_STRING": &c.atomUTF8,
		"TARGETS": &c.atomTargets, "STRING": &c.atomString, "TEXT": &c.atomText, "ADHOC_CLIPBOARD": &c.atomProp} {
		r, err := xproto.InternAtom(conn, false, uint16(len(name)), name).Reply()
		if err != nil {
			return fmt.Errorf("the X atom %s could not be named: %w", name, err)
		}
		*dst = r.Atom
	}
	return nil
}

// SetClipboard owns CLIPBOARD with text.
func (d *Desktop) SetClipboard(text string) error {
	c := &d.clip
	c.mu.Lock()
	c.text, c.owned = text, true
	c.mu.Unlock()
	if err := xproto.SetSelectionOwnerChecked(c.conn, c.win, c.atomClipboard, xproto.TimeCurrentTime).Check(); err != nil {
		return fmt.Errorf("the clipboard could not be taken: %w", err)
	}
	r, err := xproto.GetSelectionOwner(c.conn, c.atomClipboard).Reply()
	if err != nil || r.Owner != c.win {
		return errors.New("another program took the clipboard back")
	}
	return nil
}

// Clipboard returns the CLIPBOARD text ("" when nobody owns it).
func (d *Desktop) Clipboard() (string, error) {
	c := &d.clip
	c.mu.Lock()
	if c.owned {
		defer c.mu.Unlock()
		return c.text, nil
	}
	if c.gone {
		c.mu.Unlock()
		return "", errors.New("the X display closed")
	}
	owner, err := xproto.GetSelectionOwner(c.conn, c.atomClipboard).Reply()
	if err != nil || owner.Owner == xproto.WindowNone {
		c.mu.Unlock()
		return "", err
	}
	ch := make(chan xproto.SelectionNotifyEvent, 1)
	c.waiting = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.waiting = nil
		c.mu.Unlock()
	}()
	xproto.ConvertSelection(c.conn, c.win, c.atomClipboard, c.atomUTF8, c.atomProp, xproto.TimeCurrentTime)
	select {
	case ev, ok := <-ch:
		if !ok {
			return "", errors.New("the X display closed")
		}
		if ev.Property == xproto.AtomNone {
			return "", nil // the owner has no text
		}
	case <-time.After(clipboardWait):
		return "", errors.New("the program holding the clipboard did not answer")
	}
	p, err := xproto.GetProperty(c.conn, true, c.win, c.atomProp, xproto.GetPropertyTypeAny, 0, maxClipboard/4).Reply()
	if err != nil {
		return "", fmt.Errorf("the clipboard could not be read: %w", err)
	}
	return string(p.Value), nil
}

func (c *clipboard) notified(e xproto.SelectionNotifyEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting != nil && e.Requestor == c.win {
		select {
		case c.waiting <- e:
		default:
		}
	}
}

func (c *clipboard) lost() {
	c.mu.Lock()
	c.owned = false
	c.mu.Unlock()
}

func (c *clipboard) closed() {
	c.mu.Lock()
	c.gone = true
	if c.waiting != nil {
		close(c.waiting)
		c.waiting = nil
	}
	c.mu.Unlock()
}

// answer gives another program the text this desktop put on the
// clipboard, as it asked (TARGETS, UTF8_STRING, STRING, TEXT).
func (c *clipboard) answer(e xproto.SelectionRequestEvent) {
	c.mu.Lock()
	text, owned := c.text, c.owned
	c.mu.Unlock()
	prop := e.Property
	if prop == xproto.AtomNone {
		prop = e.Target // an obsolete requestor
	}
	switch {
	case !owned || e.Selection != c.atomClipboard:
		prop = xproto.AtomNone
	case e.Target == c.atomTargets:
		targets := []xproto.Atom{c.atomTargets, c.atomUTF8, c.atomString, c.atomText}
		data := make([]byte, 0, 4*len(targets))
		for _, a := range targets {
			data = append(data, byte(a), byte(a>>8), byte(a>>16), byte(a>>24))
		}
		xproto.ChangeProperty(c.conn, xproto.PropModeReplace, e.Requestor, prop, xproto.AtomAtom, 32, uint32(len(targets)), data)
	case e.Target == c.atomUTF8 || e.Target == c.atomString || e.Target == c.atomText:
		typ := e.Target
		if typ == c.atomText {
			typ = c.atomUTF8
		}
		xproto.ChangeProperty(c.conn, xproto.PropModeReplace, e.Requestor, prop, typ, 8, uint32(len(text)), []byte(text))
	default:
		prop = xproto.AtomNone
	}
	ev := xproto.SelectionNotifyEvent{Time: e.Time, Requestor: e.Requestor, Selection: e.Selection,
		Target: e.Target, Property: prop}
	xproto.SendEvent(c.conn, false, e.Requestor, 0, string(ev.Bytes()))
}
