package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"adhocstation/core/remote"
	"adhocstation/core/wire"
)

// remoteWindow is one technician's connection to a PC: a window of its own
// titled with the PC's name (several may be open at once), with a System
// tab. Closing it closes the connection; the support session stays.
type remoteWindow struct {
	win  fyne.Window
	rs   *remote.RemoteSession
	work *background

	fields  map[string]*widget.Label // value labels by row name
	status  *widget.Label
	refresh *widget.Button
	// asOf says when the System tab's answer came ("as of 14:02:11"), so
	// a Refresh that changed nothing still shows it happened.
	asOf     *widget.Label
	now      func() time.Time
	command  *commandTab
	files    *filesTab
	chat     *chatTab
	screen   *screenTab
	tabs     *container.AppTabs
	endBtn   *widget.Button
	recBadge *widget.Label // remote_recording.go
	// end ends the support session (the Computers page's End session now).
	end func() error
}

// systemRows are the System tab's rows, in order.
var systemRows = []string{"Computer name", "Windows", "Build", "Uptime", "CPU", "Memory", "Disks", "Signed-in users", "Addresses"}

// Job names of the remote window.
const (
	jobConnect = "connect"
	jobSystem  = "system"
)

func newRemoteWindow(a fyne.App, rs *remote.RemoteSession, work *background) *remoteWindow {
	r := &remoteWindow{win: a.NewWindow(rs.Computer + " — Ad Hoc Support"), rs: rs, work: work, fields: map[string]*widget.Label{}, now: time.Now}
	r.status = &widget.Label{Wrapping: fyne.TextWrapWord, Importance: widget.DangerImportance}
	r.status.Hide()
	r.refresh = &widget.Button{Text: "Refresh", Icon: theme.ViewRefreshIcon(), OnTapped: r.onRefresh}
	grid := container.New(layout.NewFormLayout())
	for _, name := range systemRows {
		v := &widget.Label{Text: "…", Wrapping: fyne.TextWrapWord, Selectable: true}
		r.fields[name] = v
		grid.Add(&widget.Label{Text: name, TextStyle: fyne.TextStyle{Bold: true}})
		grid.Add(v)
	}
	r.asOf = &widget.Label{}
	system := scrollPage(container.NewVBox(r.status, grid), container.NewHBox(r.refresh, r.asOf))
	var commandPage fyne.CanvasObject
	r.command, commandPage = newCommandTab(rs, r.win, work)
	var filesPage, screenPage fyne.CanvasObject
	r.files, filesPage = newFilesTab(rs, r.win, work)
	r.screen, screenPage = newScreenTab(a, rs, work)
	tabs := container.NewAppTabs(container.NewTabItem("System", system), container.NewTabItem("Command", commandPage),
		container.NewTabItem("Files", filesPage), container.NewTabItem("Screen", screenPage))
	tabs.OnSelected = func(ti *container.TabItem) {
		switch ti.Content {
		case filesPage:
			r.files.shown() // the PC's drives are asked for once the tab is opened
		case commandPage:
			r.command.shown()
		}
	}
	r.chat = newChatTab(tabs, rs, work) // appends the Chat tab, keeping OnSelected
	r.tabs = tabs
	r.endBtn = &widget.Button{Text: "End session now", Icon: theme.CancelIcon(), Importance: widget.DangerImportance, OnTapped: r.onEnd}
	// The session-wide action sits at the right of the tab bar, which the
	// two tabs leave empty, rather than in a second bar under each tab's.
	r.recBadge = newRecordingBadge(rs, work)
	r.win.SetContent(container.NewStack(tabs, container.NewVBox(container.NewHBox(layout.NewSpacer(), r.recBadge, r.endBtn))))
	r.win.Resize(fyne.NewSize(760, 560)) // fits 1280×720 beside the station's window
	r.win.SetOnClosed(func() { r.screen.close(); rs.Close(); r.command.close() })
	closeHidden(r.win)
	return r
}

// onEnd asks, as the Computers page does, then ends the support session and
// closes the window: the PC removes the account and cannot be reached.
func (r *remoteWindow) onEnd() {
	askFirst(r.win, "End session now?", endActiveText(r.rs.Computer), "End session", func() {
		if r.end == nil {
			return
		}
		if err := r.end(); err != nil {
			r.status.SetText(errorText(err))
			r.status.Show()
			return
		}
		closeSafely(r.win)
	})
}

// onRefresh asks the PC again; the button waits while it does.
func (r *remoteWindow) onRefresh() {
	r.refresh.Disable()
	rs := r.rs
	r.work.run(jobSystem, func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		info, err := rs.System(ctx)
		return func() {
			r.refresh.Enable()
			if err != nil {
				r.status.SetText(errorText(err))
				r.status.Show()
				return
			}
			r.status.Hide()
			r.show(info)
			r.asOf.SetText("as of " + r.now().Local().Format(time.TimeOnly))
		}
	})
}

func (r *remoteWindow) show(info wire.SystemInfo) {
	set := func(name, text string) {
		if text == "" {
			text = "unknown"
		}
		r.fields[name].SetText(text)
	}
	set("Computer name", info.ComputerName)
	set("Windows", info.Edition)
	set("Build", info.Build)
	set("Uptime", uptimeText(time.Duration(info.UptimeSec)*time.Second))
	cpu := info.CPU
	if info.CPUs > 0 {
		cpu = fmt.Sprintf("%s (%d logical processors)", cpu, info.CPUs)
	}
	set("CPU", strings.TrimSpace(cpu))
	if info.MemoryTotal > 0 {
		set("Memory", fmt.Sprintf("%s free of %s", sizeText(info.MemoryFree), sizeText(info.MemoryTotal)))
	} else {
		set("Memory", "")
	}
	var disks []string
	for _, d := range info.Disks {
		disks = append(disks, fmt.Sprintf("%s %s free of %s", d.Name, sizeText(d.Free), sizeText(d.Total)))
	}
	set("Disks", strings.Join(disks, "\n"))
	set("Signed-in users", strings.Join(info.Users, ", "))
	var addrs []string
	for _, i := range info.Addresses {
		addrs = append(addrs, i.Name+": "+strings.Join(i.Addresses, ", "))
	}
	set("Addresses", strings.Join(addrs, "\n"))
}

// uptimeText reads like "3 days 4 h 05 min".
func uptimeText(d time.Duration) string {
	days := int(d.Hours()) / 24
	h, m := int(d.Hours())%24, int(d.Minutes())%60
	if days > 0 {
		return fmt.Sprintf("%s %d h %02d min", plural(days, "day", "days"), h, m)
	}
	return fmt.Sprintf("%d h %02d min", h, m)
}
