// Command screenshots-pc stands in for the online PC of the README
// screenshots (.ci/screenshots.sh): the real agent code (support.App's
// ServeChannel) on a live channel to the station under Xvfb, with a fixed,
// plausible Windows PC behind it instead of Windows calls. Its commands run
// with this machine's sh, except the one the screenshot types, whose
// PowerShell output is canned (there is no PowerShell here); its files are
// this machine's; its user answers the first chat message; its screen is a
// second Xvfb display with a made-up desktop (screenshots-desktop.go).
//
// Run: ADHOC_PC_KEY=… ADHOC_PC_PASSWORD=… go run .ci/screenshots-pc.go .ci/screenshots-desktop.go DIR PORT
// (the seed prints the port, key and password).
package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"adhocstation/agent/applog"
	"adhocstation/agent/screen"
	"adhocstation/agent/support"
	"adhocstation/core/pairing"
	"adhocstation/core/wire"
)

func main() {
	if len(os.Args) != 3 || os.Getenv("ADHOC_PC_KEY") == "" || os.Getenv("ADHOC_PC_PASSWORD") == "" {
		fmt.Fprintln(os.Stderr, "usage: ADHOC_PC_KEY=… ADHOC_PC_PASSWORD=… go run .ci/screenshots-pc.go .ci/screenshots-desktop.go DIR PORT")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1], os.Args[2]); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "screenshots-pc:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir, port string) error {
	pins, err := stationPins(ctx, filepath.Join(dir, pairing.CertFile))
	if err != nil {
		return err
	}
	c, err := support.NewClient("https://127.0.0.1:"+port, pins)
	if err != nil {
		return err
	}
	logger := log.New(os.Stderr, "screenshots-pc: ", 0)
	user := tray{log: logger, replies: make(chan wire.ChatMessage, 1)}
	open, stopDesktop, err := screenDesktop()
	if err != nil {
		return err
	}
	defer stopDesktop()
	app := &support.App{Sys: &pc{log: logger, password: os.Getenv("ADHOC_PC_PASSWORD"), start: time.Now().Add(-(3*24*time.Hour + 5*time.Hour + 17*time.Minute))}, UI: user, Log: applog.From(logger),
		OpenDesktop: func() (screen.Desktop, error) {
			logger.Print("screen viewed")
			return open()
		}}
	logger.Print("desktop drawn")
	for ctx.Err() == nil {
		ys, _, err := c.OpenChannel(ctx, os.Getenv("ADHOC_PC_KEY"), support.ChannelTiming{})
		if err != nil || ys == nil {
			logger.Printf("live channel: %v", err)
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		logger.Print("online")
		go func() { <-ctx.Done(); ys.Close() }()
		app.ServeChannel(ys, "the technician")
	}
	return ctx.Err()
}

// stationPins waits for the station to make its certificate and returns
// its pin.
func stationPins(ctx context.Context, path string) ([]string, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			if blk, _ := pem.Decode(b); blk != nil {
				cert, err := x509.ParseCertificate(blk.Bytes)
				if err != nil {
					return nil, err
				}
				return []string{pairing.Pin(cert)}, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the station made no certificate at %s in 60 s", path)
		}
		sleep(ctx, 200*time.Millisecond)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// pc is the stand-in Windows PC: only what a remote session asks for. The
// embedded System is nil; anything else the agent asked would panic, and
// the screenshot would say so.
type pc struct {
	support.System
	log      *log.Logger // tells the script what was asked
	password string
	start    time.Time
}

func (p *pc) CheckPassword(name, password string) (support.Logon, error) {
	if name != support.AccountName || password != p.password {
		return nil, support.ErrWrongPassword
	}
	return logon{p.log}, nil
}

func (p *pc) SystemInfo() (wire.SystemInfo, error) {
	p.log.Print("system information")
	return wire.SystemInfo{ComputerName: "DESKTOP-7QK2", Edition: "Windows 11 Pro", Build: "10.0.22631.4460",
		UptimeSec: int64(time.Since(p.start).Seconds()), CPU: "Intel(R) Core(TM) i5-1135G7 @ 2.40GHz", CPUs: 8,
		MemoryTotal: 16 << 30, MemoryFree: 9<<30 + 300<<20,
		Disks: []wire.Disk{{Name: `C:\`, Total: 475 << 30, Free: 212 << 30}, {Name: `D:\`, Total: 931 << 30, Free: 604 << 30}},
		Users: []string{"anna"},
		Addresses: []wire.Interface{{Name: "Wi-Fi", Addresses: []string{"192.168.1.42/24", "fe80::5d2c:1a7e:9b41:3f0c/64"}},
			{Name: "Ethernet", Addresses: []string{"10.20.0.15/16"}}}}, nil
}

// ServiceLine is the command the screenshot runs, and services its output.
const serviceLine = "Get-Service Spooler, WSearch, wuauserv"

const services = `
Status   Name               DisplayName
------   ----               -----------
Stopped  Spooler            Print Spooler
Running  WSearch            Windows Search
Running  wuauserv           Windows Update

`

type logon struct{ log *log.Logger }

func (logon) Close() error { return nil }

func (l logon) Command(shell, line string) (*exec.Cmd, error) {
	if shell != wire.ShellPowerShell && shell != wire.ShellCmd {
		return nil, errors.New("this PC does not know the shell " + shell)
	}
	if strings.TrimSpace(line) == serviceLine {
		cmd := exec.Command("cat")
		cmd.Stdin = &told{r: strings.NewReader(services), log: l.log}
		return cmd, nil
	}
	return exec.Command("sh", "-c", line), nil
}

// told logs once cat has read all of the canned output.
type told struct {
	r   io.Reader
	log *log.Logger
}

func (t *told) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err == io.EOF {
		t.log.Print("command output sent")
	}
	return n, err
}

// tray is the user's side: it logs what their tray would show, and
// answers the technician's first chat message as the user might.
type tray struct {
	log     *log.Logger
	replies chan wire.ChatMessage
}

func (t tray) Tell(m support.Message) { t.log.Printf("tray: %s", m.Text) }

func (t tray) ShowChat(wire.ChatMessage) []string {
	select {
	case t.replies <- wire.ChatMessage{Text: "Thanks! It's the printer by the window, it stops after one page.", From: "anna", At: time.Now()}:
	default:
	}
	return []string{"anna"}
}

func (t tray) ChatReplies() (<-chan wire.ChatMessage, func()) {
	return t.replies, func() {}
}

func (tray) Consent(context.Context, support.Consent) (bool, error) {
	return false, errors.New("not asked in a remote session")
}
func (tray) AskCode(context.Context, support.CodeRequest) (string, error) {
	return "", errors.New("not asked in a remote session")
}
func (tray) ShowStatus(support.Status)     {}
func (tray) EndRequested() <-chan struct{} { return nil }

var _ support.ChatRelay = tray{}
