package main

import "github.com/go-gl/glfw/v3.3/glfw"

// screenWorkArea is the primary screen less its task bars and docks, in
// pixels, or 0, 0 when GLFW does not know it. Fyne's test driver cannot tell
// the screen's size, so this hook lives here beside the real driver. Call it
// on the main goroutine once a window exists: Fyne initialises GLFW there
// and GLFW answers only on the main thread.
func screenWorkArea() (width, height int) {
	m := glfw.GetPrimaryMonitor()
	if m == nil {
		return 0, 0
	}
	_, _, width, height = m.GetWorkarea()
	return width, height
}
