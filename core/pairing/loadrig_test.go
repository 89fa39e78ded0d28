package pairing

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/yamux"

	"adhocstation/agent/screen"
	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
	"adhocstation/core/wire"
)

// The load rig shared by TestChannelLoad and TestLoad: many paired PCs
// written straight into the station's file, and the PCs' side (the real
// agent client and channel code) in a child process, this test binary run
// again as TestLoadPCs, so the station's memory and scheduler are its own.

// loadPCsEnv hands TestLoadPCs its configuration.
const loadPCsEnv = "ADHOC_LOAD_PCS"

// loadPassword is the password of every seeded session's account: the
// PC's side checks it, the station keeps no copy of an active session's.
const loadPassword = "Load-Test-Password-7"

// seedPCs writes n active sessions, each paired with its own PC and
// technician profile, into the station in dir (core.Open must have made
// it, with its key, and be closed), and returns their ids and agent keys.
// Preparing them through core would cost n argon2id hashes (64 MiB and
// ~60–150 ms each here); a channel costs the station the same whichever
// way its session was made. The agent key's hash mirrors core/secrets.go
// (mac("agent", key) under the key derived as "code"): if that drifts,
// every channel is refused as unknown and the load fails at once.
func seedPCs(t testing.TB, dir string, now time.Time, n int) ([]int64, []string) {
	t.Helper()
	master, err := os.ReadFile(filepath.Join(dir, "station.key"))
	if err != nil {
		t.Fatal(err)
	}
	derive := hmac.New(sha256.New, master)
	derive.Write([]byte("code"))
	codeKey := derive.Sum(nil)
	keyHash := func(key string) []byte {
		m := hmac.New(sha256.New, codeKey)
		m.Write([]byte("agent\x00" + key))
		return m.Sum(nil)
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, core.DatabaseFile)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) sql.Result {
		res, err := tx.Exec(q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return res
	}
	ms := now.UnixMilli()
	day := (24 * time.Hour).Milliseconds()
	ids, keys := make([]int64, n), make([]string, n)
	for i := range n {
		res := exec(`INSERT INTO profiles (name, email, created_at) VALUES (?, ?, ?)`,
			fmt.Sprintf("Load technician %d", i), fmt.Sprintf("load%d@example.com", i), ms)
		profile, _ := res.LastInsertId()
		keys[i] = fmt.Sprintf("load-agent-key-%04d", i)
		res = exec(`INSERT INTO sessions (profile_id, user_email, state, token_mac, code_attempts_left, password_hash,
			created_at, invite_expires_at, activated_at, expires_at, agent_key_hash) VALUES (?, ?, 'active', ?, 5, '', ?, ?, ?, ?, ?)`,
			profile, fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("load-token-%d", i), ms, ms+day/24, ms, ms+day, keyHash(keys[i]))
		ids[i], _ = res.LastInsertId()
		exec(`INSERT INTO computers (session_id, hostname, os_name, os_version, arch, windows_user, machine_id, online, last_seen)
			VALUES (?, ?, 'Windows 11 Pro', '10.0.22631', 'amd64', 'anna', 'm', 0, ?)`, ids[i], fmt.Sprintf("LOAD-PC-%04d", i), ms)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return ids, keys
}

// loadPCsConfig is what the PCs' process is told.
type loadPCsConfig struct {
	URL     string
	Pins    []string
	Keys    []string
	Workers int // channels opened at once
}

// loadPCsReport is the PCs' process's answer once every channel is open.
type loadPCsReport struct {
	Open    int
	Seconds float64
	RSSMB   float64 // the PCs' process, for comparison
	Err     string
}

// childCommand runs this test binary again with args; when nice, at the
// lowest CPU priority (nice 19).
func childCommand(nice bool, args ...string) *exec.Cmd {
	if nice {
		if path, err := exec.LookPath("nice"); err == nil {
			return exec.Command(path, append([]string{"-n", "19", os.Args[0]}, args...)...)
		}
	}
	return exec.Command(os.Args[0], args...)
}

// pcsProcess is the running PCs' process.
type pcsProcess struct {
	cmd    *exec.Cmd
	stdin  io.Closer
	out    *bufio.Scanner
	report loadPCsReport
}

// startPCs runs the PCs' side of keys in a child process and waits until
// each has its live channel (or the child gives up).
func startPCs(t testing.TB, srv *Server, keys []string) *pcsProcess {
	t.Helper()
	raw, _ := json.Marshal(loadPCsConfig{URL: srv.URL(), Pins: srv.Pins(), Keys: keys, Workers: 8})
	cmd := childCommand(false, "-test.run=^TestLoadPCs$", "-test.count=1", "-test.timeout=30m")
	cmd.Env = append(os.Environ(), loadPCsEnv+"="+string(raw))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &pcsProcess{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	t.Cleanup(p.stop)
	// A child that hangs is killed, which ends the read below.
	guard := time.AfterFunc(5*time.Minute, func() { cmd.Process.Kill() })
	defer guard.Stop()
	for p.out.Scan() {
		if json.Unmarshal(p.out.Bytes(), &p.report) == nil && (p.report.Open > 0 || p.report.Err != "") {
			break
		}
	}
	if p.report.Err != "" || p.report.Open != len(keys) {
		t.Fatalf("the PCs' process opened %d of %d channels: %s", p.report.Open, len(keys), p.report.Err)
	}
	return p
}

// stop closes the PCs' stdin, on which they close their channels and exit.
func (p *pcsProcess) stop() {
	if p.stdin == nil {
		return
	}
	p.stdin.Close()
	p.stdin = nil
	guard := time.AfterFunc(time.Minute, func() { p.cmd.Process.Kill() })
	defer guard.Stop()
	p.cmd.Wait()
}

// TestLoadPCs is the PCs' process of TestLoad and TestChannelLoad; it does
// nothing in a normal test run. Each PC is the real agent client's live
// channel served by the real App.ServeChannel; a PC signed in to serves
// its screen (a made-up desktop) and files (this machine's).
func TestLoadPCs(t *testing.T) {
	raw := os.Getenv(loadPCsEnv)
	if raw == "" {
		t.Skip("the PCs' process of TestLoad and TestChannelLoad")
	}
	var cfg loadPCsConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	say := func(r loadPCsReport) { b, _ := json.Marshal(r); fmt.Println(string(b)) }
	c, err := support.NewClient(cfg.URL, cfg.Pins)
	if err != nil {
		say(loadPCsReport{Err: err.Error()})
		return
	}
	app := &support.App{Sys: loadPC{}, UI: loadTray{}, OpenDesktop: func() (screen.Desktop, error) { return &loadDesktop{}, nil }}
	chans := make([]*yamux.Session, len(cfg.Keys))
	errs := make(chan error, len(cfg.Keys))
	next := make(chan int)
	start := time.Now()
	var wg sync.WaitGroup
	for range max(cfg.Workers, 1) {
		wg.Go(func() {
			for i := range next {
				ys, _, err := c.OpenChannel(t.Context(), cfg.Keys[i], support.ChannelTiming{})
				if err == nil && ys == nil {
					err = fmt.Errorf("the station says session %d is over", i)
				}
				if err != nil {
					errs <- fmt.Errorf("channel %d: %w", i+1, err)
					continue
				}
				chans[i] = ys
				go app.ServeChannel(ys, "Load technician")
			}
		})
	}
	for i := range cfg.Keys {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	rep := loadPCsReport{Seconds: time.Since(start).Seconds(), RSSMB: memNow().rss}
	for err := range errs {
		rep.Err = err.Error()
	}
	for _, ys := range chans {
		if ys != nil {
			rep.Open++
		}
	}
	say(rep)
	// Hold the channels until the station's side closes stdin (or dies).
	io.Copy(io.Discard, os.Stdin)
	for _, ys := range chans {
		if ys != nil {
			ys.Close()
		}
	}
}

// loadPC is the PC's system: the account's password check and facts; files
// are this process's (a Logon without AsAccount).
type loadPC struct{ support.System }

func (loadPC) CheckPassword(name, password string) (support.Logon, error) {
	if name != support.AccountName || password != loadPassword {
		return nil, support.ErrWrongPassword
	}
	return loadLogon{}, nil
}

func (loadPC) SystemInfo() (wire.SystemInfo, error) {
	return wire.SystemInfo{ComputerName: "LOAD-PC", Edition: "Windows 11 Pro"}, nil
}

type loadLogon struct{}

func (loadLogon) Close() error { return nil }
func (loadLogon) Command(string, string) (*exec.Cmd, error) {
	return nil, fmt.Errorf("the load's PCs run no commands")
}

type loadTray struct{ support.UI }

func (loadTray) Tell(support.Message) {}

// loadDesktop is a 1280×720 screen on which a 240×135 block of changing
// pixels moves with every capture, so every frame carries new data.
type loadDesktop struct{ n int }

const loadScreenW, loadScreenH = 1280, 720

func (d *loadDesktop) Info() (wire.ScreenInfo, error) {
	return wire.ScreenInfo{Monitors: []wire.Monitor{{Name: "DISPLAY1", Width: loadScreenW, Height: loadScreenH, Primary: true}},
		Width: loadScreenW, Height: loadScreenH}, nil
}

func (d *loadDesktop) Capture(_ int, dst *image.RGBA) (*image.RGBA, error) {
	if dst == nil || dst.Rect.Dx() != loadScreenW || dst.Rect.Dy() != loadScreenH {
		dst = image.NewRGBA(image.Rect(0, 0, loadScreenW, loadScreenH))
	}
	d.n++
	x0, y0 := (d.n*37)%(loadScreenW-240), (d.n*23)%(loadScreenH-135)
	for y := y0; y < y0+135; y++ {
		row := dst.Pix[y*dst.Stride:]
		for x := x0; x < x0+240; x++ {
			v := byte(x*3 + y*5 + d.n*11)
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = v, v^0x5a, byte(d.n), 0xff
		}
	}
	return dst, nil
}

func (d *loadDesktop) Inject(int, wire.InputEvent) error { return nil }
func (d *loadDesktop) Clipboard() (string, error)        { return "", nil }
func (d *loadDesktop) SetClipboard(string) error         { return nil }
func (d *loadDesktop) SendSAS() error                    { return screen.ErrSASUnavailable }
func (d *loadDesktop) Close() error                      { return nil }

// mem is a process's memory, in MB.
type mem struct {
	rss, heap, stack float64
	goroutines       int
}

// memNow collects garbage, returns freed pages to the system (so memory
// freed earlier, such as an argon2id hash's, does not count), and reads
// the process's memory.
func memNow() mem {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := mem{heap: float64(ms.HeapInuse) / (1 << 20), stack: float64(ms.StackInuse) / (1 << 20), goroutines: runtime.NumGoroutine()}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				var kb float64
				fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
				m.rss = kb / 1024
			}
		}
	}
	return m
}

// startLoadStation makes a station in a fresh folder with n seeded PCs and
// starts its pairing service; prepare, if set, runs first on the station
// (to prepare sessions through core, which needs free seats). It returns
// the station, the service and the seeded sessions' ids and agent keys.
func startLoadStation(t testing.TB, ctx context.Context, n int, prepare func(*core.Station)) (*core.Station, *Server, []int64, []string) {
	t.Helper()
	dir, clock := t.TempDir(), coretest.NewClock(coretest.Start)
	st, err := core.Open(core.Config{DataDir: dir, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(st)
	}
	st.Close()
	ids, keys := seedPCs(t, dir, clock.Now(), n)
	st = coretest.OpenWith(t, dir, clock, nil)
	srv, err := Start(ctx, st, Options{ListenAddr: "127.0.0.1:0", AgentExe: fakeExe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return st, srv, ids, keys
}
