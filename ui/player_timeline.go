package ui

import (
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core/record"
)

// timeline is the player's seek bar: a slider over the recording's length
// with a tick above it for every command, transfer and control change.
type timeline struct {
	widget.BaseWidget
	length time.Duration
	slider *widget.Slider
	marks  []timelineMark
	// setting is true while the player moves the slider, so that is not
	// taken for the technician seeking.
	setting bool
}

type timelineMark struct {
	t    time.Duration
	tick *canvas.Rectangle
}

var _ fyne.Widget = (*timeline)(nil)

// markColours are the ticks' colours by event type.
var markColours = map[byte]color.NRGBA{
	record.TypeCommand:  {R: 0x15, G: 0x65, B: 0xc0, A: 0xff}, // blue
	record.TypeTransfer: {R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}, // green
	record.TypeControl:  {R: 0xc6, G: 0x28, B: 0x28, A: 0xff}, // red
}

func newTimeline(length time.Duration, events []playerEvent, seek func(time.Duration)) *timeline {
	l := &timeline{length: length}
	l.slider = widget.NewSlider(0, max(length.Seconds(), 0.1))
	l.slider.Step = max(length.Seconds()/1000, 0.001) // fine enough for a pixel of any window
	l.slider.OnChanged = func(v float64) {
		if !l.setting {
			seek(time.Duration(v * float64(time.Second)))
		}
	}
	for _, e := range events {
		if c, ok := markColours[e.typ]; ok {
			l.marks = append(l.marks, timelineMark{t: e.t, tick: canvas.NewRectangle(c)})
		}
	}
	l.ExtendBaseWidget(l)
	return l
}

// setAt moves the slider to t without seeking.
func (l *timeline) setAt(t time.Duration) {
	l.setting = true
	l.slider.SetValue(t.Seconds())
	l.setting = false
}

func (l *timeline) CreateRenderer() fyne.WidgetRenderer {
	objs := []fyne.CanvasObject{l.slider}
	for _, m := range l.marks {
		objs = append(objs, m.tick)
	}
	return &timelineRenderer{l: l, objs: objs}
}

type timelineRenderer struct {
	l    *timeline
	objs []fyne.CanvasObject
}

// markHeight is the ticks' height above the slider.
const markHeight = 8

func (r *timelineRenderer) Layout(size fyne.Size) {
	r.l.slider.Move(fyne.NewPos(0, markHeight))
	r.l.slider.Resize(fyne.NewSize(size.Width, size.Height-markHeight))
	// The slider's track runs inside its padding at both ends.
	pad := theme.InnerPadding()
	track := size.Width - 2*pad
	for _, m := range r.l.marks {
		x := pad
		if r.l.length > 0 {
			x += track * float32(m.t) / float32(r.l.length)
		}
		m.tick.Move(fyne.NewPos(x-1, 0))
		m.tick.Resize(fyne.NewSize(2, markHeight))
	}
}

func (r *timelineRenderer) MinSize() fyne.Size {
	s := r.l.slider.MinSize()
	return fyne.NewSize(max(s.Width, 200), s.Height+markHeight)
}

func (r *timelineRenderer) Refresh() {
	r.l.slider.Refresh()
	for _, m := range r.l.marks {
		m.tick.Refresh()
	}
}

func (r *timelineRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *timelineRenderer) Destroy()                     {}
