package hubload

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"adhocstation/core/hublink"
	"adhocstation/core/team"
)

// teamStation is one station of the load: its hub link (which answers
// every relay with its id, then echoes) and its team client.
type teamStation struct {
	id    string
	key   ed25519.PrivateKey
	link  *hublink.Link
	team  *team.Client
	mu    sync.Mutex
	conns int // relays it accepted
}

func joinTeamStation(t *testing.T, hub *hubProc, c *http.Client, code string, tlsCfg *tls.Config) *teamStation {
	t.Helper()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	res, err := hublink.Join(context.Background(), c, hub.url, code, "load", pub)
	if err != nil {
		t.Fatal(err)
	}
	up := make(chan struct{}, 1)
	s := &teamStation{id: res.StationID, key: key}
	s.link = &hublink.Link{Hub: hub.url, Credential: res.Credential, Client: c, OnState: func(ok bool, _ error) {
		if ok {
			select {
			case up <- struct{}{}:
			default:
			}
		}
	}}
	go s.link.Run(context.Background())
	t.Cleanup(func() { s.link.Close() })
	<-up
	go func() {
		for {
			sc, err := s.link.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
			go func() {
				defer sc.Close()
				if _, err := io.WriteString(sc, s.id+"\n"); err != nil {
					return
				}
				io.Copy(sc, sc)
			}()
		}
	}()
	seed, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	useed, _ := seed.Seed()
	credURL := hub.url + hublink.PathTeam
	cred, err := team.FetchCredential(context.Background(), c, credURL, res.Credential, useed)
	if err != nil {
		t.Fatal(err)
	}
	jwtf, err := team.FetchJWT(c, credURL, res.Credential, useed)
	if err != nil {
		t.Fatal(err)
	}
	s.team, err = team.Open(context.Background(), team.Config{URLs: cred.URLs, TLS: tlsCfg, TeamID: cred.Team,
		StationID: res.StationID, UserSeed: useed, JWT: jwtf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.team.Close)
	return s
}

// TestHubTeamLoad: the real adhoc-hub with its team server; 3 stations
// of one team of ADHOC_LOAD_PCS (1,000) seats each prepare a third of the
// sessions (a seat and a profile claimed in the team's bucket, a line in
// its list), and every session's PC holds a relay through the hub to the
// station that prepared it. Checked: no session lost (each station's list
// has every other station's sessions), every seat held exactly once and a
// further prepare refused, every relay reaches its own station, and the
// hub's memory with all of it.
func TestHubTeamLoad(t *testing.T) {
	gated(t)
	pcs := envInt("ADHOC_LOAD_PCS", 1000)
	const stations = 3
	hub, roots, codes := startHubWith(t, []string{"acme", "acme", "acme"},
		"-team-listen", "127.0.0.1:-1", "-teams", fmt.Sprintf("acme=%d", pcs))
	c := client(roots)
	tlsCfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13}
	var st [stations]*teamStation
	for i := range st {
		st[i] = joinTeamStation(t, hub, c, codes[i], tlsCfg)
	}
	rss0 := rssKB(t, hub.pid)

	// Prepares: every station at once, 8 at a time each.
	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, pcs)
	for i, s := range st {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem := make(chan struct{}, 8)
			var inner sync.WaitGroup
			for n := i; n < pcs; n += stations {
				inner.Add(1)
				sem <- struct{}{}
				go func() {
					defer inner.Done()
					defer func() { <-sem }()
					key := fmt.Sprint(n)
					by := fmt.Sprintf("Tech %d", n)
					if err := s.team.Claim(context.Background(), key, fmt.Sprintf("tech%d@example.org", n), by); err != nil {
						errs <- fmt.Errorf("station %d prepare %d: %w", i, n, err)
						return
					}
					if err := s.team.PublishSession(context.Background(), key, by, "active", "", true); err != nil {
						errs <- fmt.Errorf("station %d publish %d: %w", i, n, err)
					}
				}()
			}
			inner.Wait()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	prepared := time.Since(began)

	// One more prepare, anywhere: the team's seats are all taken.
	err := st[1].team.Claim(context.Background(), "extra", "extra@example.org", "Extra Tech")
	if !errors.Is(err, team.ErrNoSeat) {
		t.Fatalf("prepare %d of %d seats: %v, want the seat refusal", pcs+1, pcs, err)
	}

	// Every PC's relay, to the station whose token it carries.
	began = time.Now()
	conns := make([]net.Conn, pcs)
	sem := make(chan struct{}, 16) // the hub lets 32 apps wait on one station
	rerrs := make(chan error, pcs)
	for n := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s := st[n%stations]
			tok := hublink.SignToken(s.key, hublink.Claims{Station: s.id, Session: fmt.Sprint(n), Exp: time.Now().Add(time.Hour).Unix()})
			rc, err := hublink.DialRelay(context.Background(), c, hub.url, tok)
			if err != nil {
				rerrs <- fmt.Errorf("PC %d: %w", n, err)
				return
			}
			want := s.id + "\n"
			got := make([]byte, len(want))
			if _, err := io.ReadFull(rc, got); err != nil || string(got) != want {
				rerrs <- fmt.Errorf("PC %d reached %q, want station %s: %v", n, got, s.id, err)
				return
			}
			conns[n] = rc
		}()
	}
	wg.Wait()
	close(rerrs)
	for err := range rerrs {
		t.Fatal(err)
	}
	relayed := time.Since(began)
	defer func() {
		for _, rc := range conns {
			rc.Close()
		}
	}()

	// The lists: each station sees every session (its own included: the
	// list is the team's); the seats: all held, none twice.
	for i, s := range st {
		deadline := time.Now().Add(30 * time.Second) // failsafe only: the watch delivers in milliseconds
		for len(s.team.List()) < pcs && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		list := s.team.List()
		seen := map[string]bool{}
		for _, e := range list {
			if seen[e.Session] {
				t.Errorf("station %d: session %s twice in the list", i, e.Session)
			}
			seen[e.Session] = true
			if want := st[atoi(e.Session)%stations].id; e.Station != want {
				t.Errorf("station %d: session %s under station %s, want %s", i, e.Session, e.Station, want)
			}
		}
		if len(seen) != pcs {
			t.Errorf("station %d lists %d sessions of %d", i, len(seen), pcs)
		}
		total, held := s.team.Seats()
		if total != pcs || held != pcs {
			t.Errorf("station %d sees %d of %d seats held, want all %d", i, held, total, pcs)
		}
		seated, unseated := s.team.Holding()
		if want := (pcs + stations - 1 - i) / stations; seated != want || unseated != 0 {
			t.Errorf("station %d holds %d seats (%d unseated), want %d", i, seated, unseated, want)
		}
		s.mu.Lock()
		if want := (pcs + stations - 1 - i) / stations; s.conns != want {
			t.Errorf("station %d accepted %d relays, want %d", i, s.conns, want)
		}
		s.mu.Unlock()
	}
	// Every relay still carries bytes both ways.
	for n, rc := range conns {
		if _, err := rc.Write([]byte("x")); err != nil {
			t.Fatalf("PC %d: %v", n, err)
		}
		b := make([]byte, 1)
		if _, err := io.ReadFull(rc, b); err != nil || b[0] != 'x' {
			t.Fatalf("PC %d: echo %q, %v", n, b, err)
		}
	}
	rss1 := rssKB(t, hub.pid)
	t.Logf("%d stations of one team, %d sessions: prepared (seat + profile claimed, line published) in %v; %d PCs relayed to their stations in %v",
		stations, pcs, prepared.Round(time.Millisecond), pcs, relayed.Round(time.Millisecond))
	t.Logf("hub with its team server: RSS %.1f MB with the 3 stations joined, %.1f MB with %d sessions and %d relays (%.1f KB per PC)",
		float64(rss0)/1024, float64(rss1)/1024, pcs, pcs, float64(rss1-rss0)/float64(pcs))
	t.Logf("hub %s", hub.statusLine(t))
	if rss1 > 100*1024 {
		t.Errorf("hub RSS %.1f MB with %d PCs and the team: the target is under 100 MB", float64(rss1)/1024, pcs)
	}
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}
