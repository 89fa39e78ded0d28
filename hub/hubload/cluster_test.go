package hubload

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"adhocstation/core/hublink"
	hubteam "adhocstation/hub/team"
)

// clusterNode is one adhoc-hub process of a 3-node cluster.
type clusterNode struct {
	name   string
	addr   string // 127.0.0.1:PORT of its relay listener
	cmd    *exec.Cmd
	ready  chan struct{} // its log said it shares its relay state
	status chan string   // its status lines (SIGUSR1)
	exited chan struct{}
}

// online asks the node (SIGUSR1) how many stations hold a control
// connection to it.
func (n *clusterNode) online(t *testing.T) int {
	if err := n.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	line := <-n.status
	for f := range strings.FieldsSeq(line) {
		if v, ok := strings.CutPrefix(f, "online="); ok {
			return atoi(v)
		}
	}
	t.Fatalf("no online= in %q", line)
	return 0
}

// roundRobin resolves every name to the nodes' addresses in turn, skipping
// those that refuse (a dead node), as a DNS name with one record per node.
type roundRobin struct {
	mu    sync.Mutex
	addrs []string
	next  int
}

func (d *roundRobin) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	d.mu.Lock()
	start := d.next
	d.next++
	d.mu.Unlock()
	var err error
	for i := range d.addrs {
		var c net.Conn
		if c, err = (&net.Dialer{}).DialContext(ctx, "tcp", d.addrs[(start+i)%len(d.addrs)]); err == nil {
			return c, nil
		}
	}
	return nil, err
}

// TestHubClusterProcesses: three real adhoc-hub processes, clustered by
// their flags as docs/HUB.md "Cluster of hubs" says (one keys.json, routes,
// -team-replicas 3, -hub-node-url); a code printed at n0 by adhoc-hub
// enrol; a station joins and keeps its link by one name for the three
// (round robin); PCs reach it through each node; the node holding it is
// killed with SIGKILL; the station comes back at a survivor and the PCs,
// redialling, reach it through both survivors.
//
//	ADHOC_LOAD=1 go test -count=1 -v -run TestHubClusterProcesses ./hub/hubload/
func TestHubClusterProcesses(t *testing.T) {
	gated(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "adhoc-hub")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "adhocstation/hub")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building adhoc-hub: %v\n%s", err, out)
	}
	certFile, keyFile, roots, _ := cert(t, dir)
	keysDir := filepath.Join(dir, "keys")
	if _, err := hubteam.LoadOrCreateKeys(keysDir); err != nil {
		t.Fatal(err)
	}
	keysFile, err := os.ReadFile(filepath.Join(keysDir, "team", "keys.json"))
	if err != nil {
		t.Fatal(err)
	}

	var nodes []*clusterNode
	var code string
	for attempt := 1; ; attempt++ {
		// Every node's ports are in the others' flags: reserve them, and
		// start again on others if one was taken meanwhile.
		var ports []int
		for range 9 {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
			ln.Close()
		}
		var routes []string
		for i := range 3 {
			routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[3+i]))
		}
		nodes = nil
		started := true
		for i := range 3 {
			state := filepath.Join(dir, fmt.Sprintf("a%d-n%d", attempt, i))
			if err := os.MkdirAll(filepath.Join(state, "team"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(state, "team", "keys.json"), keysFile, 0o600); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				out, err := exec.Command(bin, "enrol", "-state", state).Output()
				if err != nil {
					t.Fatalf("adhoc-hub enrol: %v", err)
				}
				code = strings.TrimSpace(string(out))
			}
			n := &clusterNode{name: fmt.Sprintf("n%d", i), addr: fmt.Sprintf("127.0.0.1:%d", ports[i]),
				ready: make(chan struct{}), status: make(chan string, 1), exited: make(chan struct{})}
			n.cmd = exec.Command(bin, "-listen", n.addr, "-cert", certFile, "-key", keyFile, "-state", state,
				"-team-listen", fmt.Sprintf("127.0.0.1:%d", ports[6+i]), "-team-node", n.name,
				"-team-cluster", fmt.Sprintf("127.0.0.1:%d", ports[3+i]), "-team-routes", strings.Join(routes, ","),
				"-team-replicas", "3", "-hub-node-url", "https://"+n.addr, "-hub-node-name", "127.0.0.1")
			stderr, err := n.cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := n.cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmd := n.cmd
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			listening := make(chan bool, 1)
			go func() {
				defer close(n.exited)
				sc := bufio.NewScanner(stderr)
				said := false
				for sc.Scan() {
					line := sc.Text()
					switch {
					case strings.Contains(line, `msg="hub listening"`):
						said = true
						listening <- true
					case strings.Contains(line, `msg="cluster: sharing relay state"`):
						close(n.ready)
					case strings.Contains(line, `msg=status`):
						n.status <- line
					}
				}
				if !said {
					listening <- false
				}
			}()
			if !<-listening {
				started = false
				break
			}
			nodes = append(nodes, n)
		}
		if started {
			break
		}
		for _, n := range nodes {
			n.cmd.Process.Kill()
		}
		if attempt == 5 {
			t.Fatal("the 3 hub processes did not start")
		}
		t.Logf("start attempt %d failed (a port taken?): again on others", attempt)
	}
	began := time.Now()
	for _, n := range nodes {
		select {
		case <-n.ready:
		case <-n.exited:
			t.Fatalf("%s exited", n.name)
		case <-time.After(2 * time.Minute): // failsafe
			t.Fatalf("%s does not share its relay state", n.name)
		}
	}
	t.Logf("3 adhoc-hub processes share their relay state %v after their start", time.Since(began).Round(time.Millisecond))

	tlsCfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13, ServerName: "127.0.0.1"}
	byName := func() *http.Client {
		var addrs []string
		for _, n := range nodes {
			addrs = append(addrs, n.addr)
		}
		d := &roundRobin{addrs: addrs}
		return &http.Client{Transport: &http.Transport{DialContext: d.dial, TLSClientConfig: tlsCfg}}
	}
	at := func(n *clusterNode) *http.Client {
		d := &roundRobin{addrs: []string{n.addr}}
		return &http.Client{Transport: &http.Transport{DialContext: d.dial, TLSClientConfig: tlsCfg}}
	}
	const hubURL = "https://hub.test"
	// The code printed at n0, redeemed at n2 (the name's third address).
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	res, err := hublink.Join(context.Background(), at(nodes[2]), hubURL, code, "desk", pub)
	if err != nil {
		t.Fatalf("a code printed at n0, redeemed at n2: %v", err)
	}
	up := make(chan struct{}, 16)
	link := &hublink.Link{Hub: hubURL, Credential: res.Credential, Client: byName(), OnState: func(ok bool, _ error) {
		if ok {
			up <- struct{}{}
		}
	}}
	go link.Run(context.Background())
	defer link.Close()
	go func() {
		for {
			c, err := link.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := io.WriteString(c, res.StationID+"\n"); err == nil {
					io.Copy(c, c)
				}
			}()
		}
	}()
	<-up
	reach := func(c *http.Client) error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		tok := hublink.SignToken(key, hublink.Claims{Station: res.StationID, Session: "s", Exp: time.Now().Add(time.Hour).Unix()})
		rc, err := hublink.DialRelay(ctx, c, hubURL, tok)
		if err != nil {
			return err
		}
		defer rc.Close()
		rc.SetDeadline(time.Now().Add(20 * time.Second))
		got := make([]byte, len(res.StationID)+1)
		if _, err := io.ReadFull(rc, got); err != nil || string(got) != res.StationID+"\n" {
			return fmt.Errorf("the relay reached %q: %v", got, err)
		}
		return nil
	}
	var holder *clusterNode
	for _, n := range nodes {
		if n.online(t) == 1 {
			holder = n
		}
	}
	if holder == nil {
		t.Fatal("no node holds the station")
	}
	// The holder's lease reaches the others within moments: a PC at each
	// node, retried while one is refused "station offline" meanwhile.
	for _, n := range nodes {
		for {
			err := reach(at(n))
			if err == nil {
				break
			}
			var he *hublink.HubError
			if !errors.As(err, &he) || he.Code != "station_offline" {
				t.Fatalf("a PC at %s: %v", n.name, err)
			}
			time.Sleep(20 * time.Millisecond) // an app's retry, not a start
		}
	}
	t.Logf("PCs at n0, n1, n2 reach the station held at %s", holder.name)

	killed := time.Now()
	if err := holder.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-holder.exited
	select {
	case <-up:
	case <-time.After(30 * time.Second): // failsafe
		t.Fatal("the station did not reconnect to a survivor")
	}
	t.Logf("%s killed (SIGKILL): the station is back at a survivor %v after", holder.name, time.Since(killed).Round(time.Millisecond))
	for _, n := range nodes {
		c, name := at(n), n.name
		if n == holder {
			c, name = byName(), n.name+" (dead: by name)"
		}
		refused := 0
		for {
			err := reach(c)
			if err == nil {
				break
			}
			var he *hublink.HubError
			if !errors.As(err, &he) || he.Code != "station_offline" || time.Since(killed) > time.Minute {
				t.Fatalf("a PC at %s after the kill: %v", name, err)
			}
			refused++
			time.Sleep(50 * time.Millisecond) // an app's retry
		}
		t.Logf("PC at %s reaches the station again %v after the kill (%d refusals on the way)", name, time.Since(killed).Round(time.Millisecond), refused)
	}
}
