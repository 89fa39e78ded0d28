package hubsrv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"adhocstation/hub/team"
)

// SetTeam makes the hub a team hub (docs/TEAM.md): an enrolled station of
// a team (adhoc-hub enrol -team NAME) gets its NATS credential from ts at
// hublink.PathTeam, and a revocation cuts its team connection too. urls
// are the team server's addresses as stations dial them; empty: the host
// the station reached the hub by, on ts's port. Call before Serve.
func (s *Server) SetTeam(ts *team.Server, urls []string) {
	port := ""
	if _, p, err := net.SplitHostPort(hostOf(ts.ClientURL())); err == nil {
		port = p
	}
	ts.SetStationURLs(func(r *http.Request) []string {
		if len(urls) > 0 {
			return urls
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		return []string{"tls://" + net.JoinHostPort(host, port)}
	})
	s.mu.Lock()
	s.team = ts
	s.mu.Unlock()
}

// hostOf is HOST:PORT of a URL such as nats://HOST:PORT.
func hostOf(u string) string {
	if _, hp, ok := strings.Cut(u, "://"); ok {
		return hp
	}
	return u
}

// teamCredential hands an enrolled station of a team its NATS user JWT
// (hub/team.CredentialHandler behind the station's hub credential), and
// remembers the station's NATS key so a revocation can name it.
func (s *Server) teamCredential(w http.ResponseWriter, r *http.Request) {
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(15 * time.Second))
	id, teamID, err := s.station(r)
	if err != nil {
		refuseStation(w, err)
		return
	}
	s.mu.Lock()
	ts := s.team
	s.mu.Unlock()
	if teamID == "" || ts == nil {
		refuse(w, http.StatusNotFound, "no_team", "This station belongs to no team at this hub: it keeps its own seats. To share a team's seats, ask the hub's admin for a code made with adhoc-hub enrol -team NAME.")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4096))
	var req team.CredentialRequest
	if err != nil || json.Unmarshal(body, &req) != nil {
		refuse(w, http.StatusBadRequest, "bad_request", "The request could not be read.")
		return
	}
	if err := s.rememberTeamKey(id, req.UserPublicKey); err != nil {
		s.log.Error("team credential: saving the state", "err", err)
		refuse(w, http.StatusInternalServerError, "internal", "The hub could not save the station's team key; its admin should check its log.")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	ts.CredentialHandler(func(*http.Request) (string, string, error) { return id, teamID, nil }).ServeHTTP(w, r)
}

// rememberTeamKey records key as one of station id's NATS keys (a few at
// most: a station keeps its key, a rejoin makes a new station id).
func (s *Server) rememberTeamKey(id, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state.Stations[id]
	if st == nil || key == "" || len(key) > 100 || slices.Contains(st.TeamKeys, key) {
		return nil
	}
	old := st.TeamKeys
	st.TeamKeys = append(slices.Clone(old), key)
	if len(st.TeamKeys) > 8 {
		st.TeamKeys = st.TeamKeys[len(st.TeamKeys)-8:]
	}
	if err := s.state.save(s.dir); err != nil {
		st.TeamKeys = old
		return err
	}
	return nil
}

// ErrUnknownStation: no station of that id is enrolled.
var ErrUnknownStation = errors.New("no station of that id is enrolled at this hub (the ids are in the hub's log and in STATE/stations.json)")

// Revoke cuts station id now: its credential is refused from then on
// (control, relays, web forwarding, team credentials), its control
// connection is closed, and its team connection is cut (hub/team.Revoke).
// The station keeps its SQLite and works alone; to come back it is
// enrolled again with a new code.
func (s *Server) Revoke(ctx context.Context, id string) error {
	s.mu.Lock()
	st := s.state.Stations[id]
	if st == nil {
		s.mu.Unlock()
		return ErrUnknownStation
	}
	first := st.Revoked.IsZero()
	if first {
		st.Revoked = s.clock().UTC()
		if err := s.state.save(s.dir); err != nil {
			st.Revoked = time.Time{}
			s.mu.Unlock()
			return fmt.Errorf("the hub could not save the revocation: %w", err)
		}
	}
	c := s.online[id]
	delete(s.online, id)
	keys, teamID, ts := slices.Clone(st.TeamKeys), st.Team, s.team
	s.mu.Unlock()
	if c != nil {
		c.ws.Close(4003, "station revoked")
	}
	s.log.Info("station revoked", "station", id, "team", teamID)
	if ts != nil && teamID != "" {
		// A station that never fetched a credential has no key to revoke;
		// its hub credential, refused from now on, gets it none.
		for _, k := range keys {
			if err := ts.Revoke(ctx, id, k); err != nil {
				return fmt.Errorf("the station's relay is cut, but its team connection could not be revoked: %w", err)
			}
		}
	}
	return nil
}

// The admin socket: `adhoc-hub revoke` talks to the running hub through a
// Unix socket in its state folder (mode 0600 in a 0700 folder), so only the
// hub's user (or root) can use it, no port is opened, and the running hub —
// which holds the team keys and the control connections — does the work
// (a second process editing the state files would be overwritten).

// AdminSocket is the admin socket's path in state folder dir.
func AdminSocket(dir string) string { return filepath.Join(dir, "admin.sock") }

type adminRequest struct {
	Op      string `json:"op"`
	Station string `json:"station"`
}

type adminResponse struct {
	Error string `json:"error,omitempty"`
}

// ListenAdmin makes the admin socket, AdminSocket(dir), mode 0600.
func (s *Server) ListenAdmin() (net.Listener, error) {
	path := AdminSocket(s.dir)
	os.Remove(path) // a socket left by a hub that did not stop cleanly
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("the admin socket %s could not be made: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// ServeAdmin answers admin requests on ln (ListenAdmin) until ctx ends.
func (s *Server) ServeAdmin(ctx context.Context, ln net.Listener) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go s.admin(ctx, c)
	}
}

func (s *Server) admin(ctx context.Context, c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	var req adminRequest
	var resp adminResponse
	line, err := bufio.NewReader(io.LimitReader(c, 4096)).ReadBytes('\n')
	switch {
	case err != nil || json.Unmarshal(line, &req) != nil:
		resp.Error = "the request could not be read"
	case req.Op == "revoke":
		if err := s.Revoke(ctx, req.Station); err != nil {
			resp.Error = err.Error()
		}
	case req.Op == "codes": // adhoc-hub enrol printed a code: share it now
		s.PublishCodes(ctx)
	default:
		resp.Error = "unknown admin request " + strconv.Quote(req.Op)
	}
	b, _ := json.Marshal(resp)
	c.Write(append(b, '\n'))
}

// AdminRevoke asks the hub running on state folder dir to revoke station
// id (adhoc-hub revoke).
func AdminRevoke(dir, id string) error {
	c, err := net.DialTimeout("unix", AdminSocket(dir), 5*time.Second)
	if err != nil {
		return fmt.Errorf("the running hub could not be reached through %s (%w): start the hub, or pass its -state folder, and run this as the hub's user", AdminSocket(dir), err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	b, _ := json.Marshal(adminRequest{Op: "revoke", Station: id})
	if _, err := c.Write(append(b, '\n')); err != nil {
		return err
	}
	line, err := bufio.NewReader(io.LimitReader(c, 64<<10)).ReadBytes('\n')
	var resp adminResponse
	if err != nil || json.Unmarshal(line, &resp) != nil {
		return fmt.Errorf("the hub's answer could not be read: %v", err)
	}
	if resp.Error != "" {
		return errors.New(resp.Error)
	}
	return nil
}
