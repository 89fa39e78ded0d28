// Command screenshots-seed fills a data folder with sessions in every state,
// through core as the station itself would, for the README screenshots
// (.ci/screenshots.sh). Run: go run .ci/screenshots-seed.go DIR
//
// It prints, for .ci/screenshots-pc.go, the pairing port it chose and the
// online PC's agent key and session password (on stdout only: the folder
// is thrown away after the screenshots).
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"adhocstation/core"
)

// clock is set back in time so the seeded sessions have a past; the station
// that opens the folder afterwards runs on the real clock and expires or
// marks offline what that past calls for.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run .ci/screenshots-seed.go DIR")
		os.Exit(2)
	}
	if err := seed(os.Args[1], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots-seed:", err)
		os.Exit(1)
	}
}

func seed(dir string, out io.Writer) error {
	ctx := context.Background()
	c := &clock{t: time.Now().Add(-26 * time.Hour)}
	st, err := core.Open(core.Config{DataDir: dir, Now: c.now})
	if err != nil {
		return err
	}
	defer st.Close()
	// A free port on loopback for the pairing service, so the PC stand-in
	// reaches it and a station running elsewhere on :8443 is no obstacle.
	port, err := freePort()
	if err != nil {
		return err
	}
	set, err := st.Settings(ctx)
	if err != nil {
		return err
	}
	set.Pairing.ListenAddr, set.Pairing.PublicHost, set.Pairing.PublicPort = fmt.Sprintf("127.0.0.1:%d", port), "127.0.0.1", port
	if err := st.SaveSettings(ctx, set); err != nil {
		return err
	}
	var password string // the last prepared session's
	prepare := func(name, tech, user string) (core.Prepared, error) {
		p, err := st.CreateProfile(ctx, name, tech)
		if err != nil {
			return core.Prepared{}, err
		}
		// Open sessions may not share a password: each gets its own.
		password, err = core.GeneratePassword()
		if err != nil {
			return core.Prepared{}, err
		}
		return st.Prepare(ctx, core.PrepareRequest{ProfileID: p.ID, UserEmail: user, Password: password, Confirm: password})
	}
	pair := func(prep core.Prepared, host, os, user, addr string) (core.Paired, error) {
		return st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: addr + ":50000",
			Facts: core.ComputerFacts{Hostname: host, OSName: os, OSVersion: "10.0.22631", Arch: "amd64",
				WindowsUser: user, MachineID: host + "-machine"}})
	}
	// 26 h ago: a session that has expired by now.
	old, err := prepare("Cid Moreau", "cid.moreau@example.com", "jonas.berg@example.com")
	if err != nil {
		return err
	}
	if _, err := pair(old, "LAPTOP-3FJ8", "Windows 10 Pro", "jonas", "192.0.2.10"); err != nil {
		return err
	}
	// 5 h ago: a PC that has gone offline, and one that was ended.
	c.t = time.Now().Add(-5 * time.Hour)
	off, err := prepare("Eva Novak", "eva.novak@example.com", "li.wei@example.com")
	if err != nil {
		return err
	}
	if _, err := pair(off, "PC-RECEPTION", "Windows 11 Home", "front", "192.0.2.11"); err != nil {
		return err
	}
	ended, err := prepare("Dan Ortiz", "dan.ortiz@example.com", "sam.lee@example.com")
	if err != nil {
		return err
	}
	if _, err := pair(ended, "DESKTOP-M4X1", "Windows 11 Pro", "sam", "192.0.2.12"); err != nil {
		return err
	}
	c.t = c.t.Add(40 * time.Minute)
	if err := st.End(ctx, ended.Session.ID); err != nil {
		return err
	}
	// Now: one online, one waiting for the user, one cancelled.
	c.t = time.Now().Add(-2 * time.Minute)
	cancelled, err := prepare("Fay Lund", "fay.lund@example.com", "omar.haddad@example.com")
	if err != nil {
		return err
	}
	if err := st.Cancel(ctx, cancelled.Session.ID); err != nil {
		return err
	}
	online, err := prepare("Bob Lindqvist", "bob.lindqvist@example.com", "anna.svensson@example.com")
	if err != nil {
		return err
	}
	onlinePassword := password
	c.t = time.Now().Add(-time.Minute)
	pc, err := pair(online, "DESKTOP-7QK2", "Windows 11 Pro", "anna", "192.0.2.13")
	if err != nil {
		return err
	}
	c.t = time.Now()
	if _, err := prepare("Ann Keller", "ann.keller@example.com", "maria.rossi@example.com"); err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, port, pc.AgentKey, onlinePassword)
	return err
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
