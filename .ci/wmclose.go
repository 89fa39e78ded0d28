//go:build ignore

// Command wmclose asks an X window to close the way a window manager's
// close button does: a WM_DELETE_WINDOW client message. (xdotool's
// windowclose destroys the window instead, which GLFW does not survive.)
//
// Run: go run .ci/wmclose.go WINDOW-ID
package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"strconv"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run .ci/wmclose.go WINDOW-ID")
		os.Exit(2)
	}
	id, err := strconv.ParseUint(os.Args[1], 0, 32)
	if err != nil {
		fail(err)
	}
	xgb.Logger = log.New(io.Discard, "", 0) // it warns of the missing ~/.Xauthority Xvfb does not need
	c, err := xgb.NewConn()
	if err != nil {
		fail(err)
	}
	defer c.Close()
	atom := func(name string) xproto.Atom {
		r, err := xproto.InternAtom(c, false, uint16(len(name)), name).Reply()
		if err != nil {
			fail(err)
		}
		return r.Atom
	}
	protocols, del := atom("WM_PROTOCOLS"), atom("WM_DELETE_WINDOW")
	ev := xproto.ClientMessageEvent{Format: 32, Window: xproto.Window(id), Type: protocols,
		Data: xproto.ClientMessageDataUnionData32New([]uint32{uint32(del), xproto.TimeCurrentTime, 0, 0, 0})}
	if err := xproto.SendEventChecked(c, false, xproto.Window(id), xproto.EventMaskNoEvent, string(ev.Bytes())).Check(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "wmclose:", err)
	os.Exit(1)
}
