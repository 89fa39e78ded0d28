// Package team is the hub's side of a team of stations (issue 20,
// docs/TEAM.md): an embedded NATS server with JetStream, decentralized auth
// (the hub holds the operator and account keys and signs each station a
// short-lived user JWT scoped to its team's bucket), one KV bucket per team,
// revocation that cuts a station at once, and 1 or 3 nodes.
package team

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// Config of one node.
type Config struct {
	StateDir string // the hub's state folder; the node keeps STATE/team/{keys.json,jwt,js}
	Name     string // this node's name, unique in a cluster (default "hub")
	Host     string // client listener host (default 127.0.0.1)
	Port     int    // client listener port; -1 picks a free one (tests)
	// TLS, when set, makes the client listener TLS only (stations dial
	// tls://HOST:PORT across the internet): the hub's own certificate.
	TLS *tls.Config

	// Cluster, when ClusterPort is not 0, makes this node one of a cluster:
	// ClusterName is shared, Routes names the other nodes' route URLs
	// (nats-route://HOST:PORT). The route password comes from keys.json.
	ClusterName string
	ClusterHost string
	ClusterPort int // -1 picks a free one (tests)
	Routes      []string
	// RouteTLS (see RouteTLS) encrypts the routes and lets in only nodes
	// holding the hub's certificate. A cluster without it starts only
	// when RoutesPlain says the routes run on a private network or VPN.
	RouteTLS    *tls.Config
	RoutesPlain bool
	// Replicas of each team bucket: 1, or 3 in a 3-node cluster.
	Replicas int

	Log *slog.Logger
}

// Server is one running node.
type Server struct {
	cfg  Config
	keys *Keys
	ns   *server.Server
	log  *slog.Logger

	admin *nats.Conn // the hub's own user in the stations' account
	sys   *nats.Conn // the hub's system user: pushes account JWT updates
	js    jetstream.JetStream
	urls  func(r *http.Request) []string // SetStationURLs
	res   *server.DirAccResolver
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidID reports whether s can be a team or station id: it becomes a
// subject token and a bucket name, so only letters, digits, _ and -.
func ValidID(s string) bool { return idRE.MatchString(s) }

// Start runs a node with keys (LoadOrCreateKeys) and waits until it serves
// clients. Clustered, its JetStream answers only once the nodes elected a
// meta leader: WaitJetStream waits for that.
func Start(cfg Config, keys *Keys) (*Server, error) {
	if cfg.Name == "" {
		cfg.Name = "hub"
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	oc, _, err := keys.operatorClaims()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cfg.StateDir, "team")
	res, err := server.NewDirAccResolver(filepath.Join(dir, "jwt", cfg.Name), 0, time.Minute, server.NoDelete)
	if err != nil {
		return nil, err
	}
	// Revocations made on another node (pushed to this one's resolver) or
	// lost from a stale copy of keys.json must survive the JWT signed now.
	if err := keys.mergeRevocations(res); err != nil {
		return nil, err
	}
	// Preload (newer-only) both accounts, so a node needs no other node to
	// learn them; revocations reach running nodes by the system push below.
	accJWT, err := keys.accountJWT()
	if err != nil {
		return nil, err
	}
	sysJWT, err := keys.sysAccountJWT()
	if err != nil {
		return nil, err
	}
	if err := res.Store(keys.AccountPublicKey(), accJWT); err != nil {
		return nil, err
	}
	if err := res.Store(pub(keys.sysAccount), sysJWT); err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName:       cfg.Name,
		Host:             cfg.Host,
		Port:             cfg.Port,
		JetStream:        true,
		StoreDir:         filepath.Join(dir, "js", cfg.Name),
		TrustedOperators: []*jwt.OperatorClaims{oc},
		SystemAccount:    pub(keys.sysAccount),
		AccountResolver:  res,
		NoSigs:           true,
		NoLog:            true,
		// The server itself closes a connection when its JWT expires or is
		// revoked (see Revoke); nothing here needs to watch for either.
	}
	if cfg.TLS != nil {
		t := cfg.TLS.Clone()
		t.NextProtos = nil // NATS speaks no ALPN; the relay's http/1.1 is not ours
		opts.TLSConfig, opts.TLS = t, true
		opts.TLSTimeout = 5
	}
	if cfg.ClusterPort != 0 && cfg.RouteTLS == nil && !cfg.RoutesPlain {
		return nil, fmt.Errorf("the team server %s would run its cluster routes as plain TCP: give the hub its certificate (-cert and -key, or -acme-domain) so the routes use TLS, or, only on a private network or VPN, pass -team-routes-plain", cfg.Name)
	}
	if cfg.ClusterPort != 0 {
		opts.Cluster = server.ClusterOpts{
			Name:     cfg.ClusterName,
			Host:     orDefault(cfg.ClusterHost, cfg.Host),
			Port:     cfg.ClusterPort,
			Username: "hub",
			Password: keys.f.RouteSecret,
		}
		if cfg.RouteTLS != nil && !cfg.RoutesPlain {
			opts.Cluster.TLSConfig = cfg.RouteTLS.Clone()
			opts.Cluster.TLSTimeout = 5
		}
		for _, r := range cfg.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("the route %q is not a URL: %w", r, err)
			}
			u.User = url.UserPassword("hub", keys.f.RouteSecret)
			opts.Routes = append(opts.Routes, u)
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, err
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("the team server %s did not start within 10 s", cfg.Name)
	}
	s := &Server{cfg: cfg, keys: keys, ns: ns, log: cfg.Log, res: res}
	if err := s.connectInternal(); err != nil {
		ns.Shutdown()
		return nil, err
	}
	return s, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (s *Server) connectInternal() error {
	conn := func(user, account nkeys.KeyPair, name string) (*nats.Conn, error) {
		j, err := internalUserJWT(user, account, name)
		if err != nil {
			return nil, err
		}
		// In-process: no port, no TLS, and it lives exactly as long as this node.
		return nats.Connect("", nats.InProcessServer(s.ns), nats.Name(name),
			nats.UserJWT(func() (string, error) { return j, nil }, func(n []byte) ([]byte, error) { return user.Sign(n) }),
			nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	}
	var err error
	if s.sys, err = conn(s.keys.sysUser, s.keys.sysAccount, "hub-sys-"+s.cfg.Name); err != nil {
		return fmt.Errorf("the hub's system connection to its team server failed: %w", err)
	}
	if s.admin, err = conn(s.keys.adminUser, s.keys.account, "hub-admin-"+s.cfg.Name); err != nil {
		s.sys.Close()
		return fmt.Errorf("the hub's admin connection to its team server failed: %w", err)
	}
	s.js, err = jetstream.New(s.admin)
	return err
}

// ClientURL is where stations connect (nats://HOST:PORT).
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// ClusterURL is this node's route URL, for the other nodes' Routes.
func (s *Server) ClusterURL() string {
	a := s.ns.ClusterAddr()
	if a == nil {
		return ""
	}
	return "nats-route://" + net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port))
}

// NATS is the embedded server (tests, monitoring).
func (s *Server) NATS() *server.Server { return s.ns }

// Shutdown stops the node and waits for it.
func (s *Server) Shutdown() {
	s.admin.Close()
	s.sys.Close()
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// Bucket is the KV bucket of a team.
func Bucket(teamID string) string { return "team_" + teamID }

// Config keys of a team bucket, written by the hub only (stations may not
// publish to them, see userPermissions).
const ConfigKey = "config"

// RevokedPrefix starts the key revoked.<STATION> the hub writes in every
// team bucket when it revokes that station (the value is the time, RFC
// 3339): its teammates drop it from their members, so its certificate's
// pin leaves them and their PCs. Stations may not publish to it.
const RevokedPrefix = "revoked."

// EnsureTeam makes (or keeps) the team's bucket and writes its seat count.
// The bucket allows per-key TTLs (the stations' seat and profile leases) and
// keeps a delete marker for a while so watchers see a lease run out.
func (s *Server) EnsureTeam(ctx context.Context, teamID string, seats int) error {
	if !ValidID(teamID) {
		return fmt.Errorf("the team id %q may use only letters, digits, _ and -", teamID)
	}
	if seats < 1 {
		return fmt.Errorf("a team needs at least one seat, not %d", seats)
	}
	kv, err := s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:         Bucket(teamID),
		Description:    "adhoc station team " + teamID,
		History:        1,
		Storage:        jetstream.FileStorage,
		Replicas:       s.cfg.Replicas,
		LimitMarkerTTL: time.Minute,
	})
	if err != nil {
		return fmt.Errorf("the team bucket %s could not be made: %w", Bucket(teamID), err)
	}
	_, err = kv.Put(ctx, ConfigKey, []byte(`{"seats":`+strconv.Itoa(seats)+`}`))
	return err
}

// userPermissions scope a station to its team's bucket: it may claim any
// seat and profile key, write only its own presence and session keys, ask
// another station to end a session only under its own name
// (end.<owner>.<session>.<itself>), delete the requests addressed to it
// (end.<itself>.…), the same for the notices that it took over a PC of
// another station's session (took.<owner>.<session>.<itself>, deleted by
// the owner: took.<itself>.…), read the whole bucket, and receive only on
// its own inbox prefix. Nothing here covers config nor revoked.* (the hub's
// word that a station was revoked): no station writes or deletes those.
func userPermissions(uc *jwt.UserClaims, teamID, stationID string) {
	b := Bucket(teamID)
	stream := "KV_" + b
	uc.Pub.Allow.Add(
		"$KV."+b+".seat.*",
		"$KV."+b+".profile.*",
		"$KV."+b+".station."+stationID,
		"$KV."+b+".session."+stationID+".*",
		"$KV."+b+".end.*.*."+stationID,
		"$KV."+b+".end."+stationID+".>",
		"$KV."+b+".took.*.*."+stationID,
		"$KV."+b+".took."+stationID+".>",
		"$JS.API.INFO",
		"$JS.API.STREAM.INFO."+stream,
		"$JS.API.STREAM.MSG.GET."+stream,
		"$JS.API.DIRECT.GET."+stream+".>",
		"$JS.API.CONSUMER.CREATE."+stream+".>",
		"$JS.API.CONSUMER.DELETE."+stream+".>",
		"$JS.API.CONSUMER.INFO."+stream+".>",
		"$JS.FC."+stream+".>",
	)
	uc.Sub.Allow.Add(InboxPrefix(stationID) + ".>")
}

// InboxPrefix is the only prefix a station may receive on; its client must
// use it (nats.CustomInboxPrefix) so no station reads another's replies.
func InboxPrefix(stationID string) string { return "_INBOX_" + stationID }

// ErrStationRevoked: the hub does not issue credentials to a revoked station.
var ErrStationRevoked = errors.New("this station was revoked at the hub: enrol it again under a new name")

// IssueUser signs a user JWT for the station's public user nkey (the
// station's seed never leaves it), valid for ttl, scoped to the team.
func (s *Server) IssueUser(teamID, stationID, userPub string, ttl time.Duration) (string, error) {
	if !ValidID(teamID) || !ValidID(stationID) {
		return "", fmt.Errorf("team %q or station %q is not a valid id", teamID, stationID)
	}
	if !nkeys.IsValidPublicUserKey(userPub) {
		return "", fmt.Errorf("%q is not a user public key", userPub)
	}
	// Revoked here, or in the account JWT this node serves (a revocation
	// made through another node of the cluster).
	if err := s.keys.mergeRevocations(s.res); err != nil {
		return "", err
	}
	s.keys.mu.Lock()
	_, revoked := s.keys.f.RevokedStations[stationID]
	_, keyRevoked := s.keys.f.Revoked[userPub]
	s.keys.mu.Unlock()
	if revoked || keyRevoked {
		return "", ErrStationRevoked
	}
	uc := jwt.NewUserClaims(userPub)
	uc.Name = stationID
	uc.Tags.Add("team:"+teamID, "station:"+stationID)
	uc.Expires = time.Now().Add(ttl).Unix()
	userPermissions(uc, teamID, stationID)
	return uc.Encode(s.keys.account)
}

// Revoke cuts a station now: its key goes in the account JWT's revocations,
// the new account JWT is saved and pushed to every node through the system
// account, and each node closes the station's connections on the update.
// The station id is refused credentials from then on, and its teammates
// are told (withdrawStation).
func (s *Server) Revoke(ctx context.Context, stationID, userPub string) error {
	if err := s.keys.mergeRevocations(s.res); err != nil {
		return err
	}
	s.keys.mu.Lock()
	now := time.Now().Unix()
	s.keys.f.Revoked[userPub] = now
	s.keys.f.RevokedStations[stationID] = now
	err := s.keys.save()
	var accJWT string
	if err == nil {
		accJWT, err = s.keys.accountJWTLocked()
	}
	s.keys.mu.Unlock()
	if err != nil {
		return err
	}
	if err := s.pushAccount(ctx, accJWT); err != nil {
		return err
	}
	return s.withdrawStation(ctx, stationID, time.Unix(now, 0))
}

// withdrawStation tells each team's stations that stationID is revoked and
// removes what it left in the buckets. It marks it revoked.<station> (kept
// from the first revocation: the hub revokes each of a station's keys), so
// its teammates forget its name and pin, also those offline now, which read
// the marker when they next watch; it deletes its presence and its session
// lines (no one may end those sessions through the team any more), and the
// requests to end a session and the notices of a takeover it wrote that
// still wait for an offline owner: a lost kiosk's requests are not acted on
// after its revocation, nor its takeovers audited as if still in good
// standing. The hub does not keep which team a station id belongs to, so
// every team bucket gets the marker; the id is random and tells another
// team nothing.
func (s *Server) withdrawStation(ctx context.Context, stationID string, at time.Time) error {
	names := s.js.KeyValueStoreNames(ctx)
	var errs []error
	for name := range names.Name() {
		if !strings.HasPrefix(name, "team_") {
			continue
		}
		kv, err := s.js.KeyValue(ctx, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := kv.Create(ctx, RevokedPrefix+stationID, []byte(at.UTC().Format(time.RFC3339))); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			errs = append(errs, err)
		}
		keys, err := kv.ListKeysFiltered(ctx, "station."+stationID, "session."+stationID+".*", "end.*.*."+stationID, "took.*.*."+stationID)
		if err != nil {
			if !errors.Is(err, jetstream.ErrNoKeysFound) {
				errs = append(errs, err)
			}
			continue
		}
		for k := range keys.Keys() {
			if err := kv.Delete(ctx, k); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := names.Error(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("the station is cut, but its teammates could not all be told it was revoked, or its presence, sessions, requests to end sessions and takeover notices could not all be withdrawn (revoke it again to retry): %w", err)
	}
	return nil
}

// pushAccount sends the account JWT to $SYS.REQ.CLAIMS.UPDATE: every node's
// resolver stores it and applies it (closing revoked clients).
func (s *Server) pushAccount(ctx context.Context, accJWT string) error {
	msg, err := s.sys.RequestWithContext(ctx, "$SYS.REQ.CLAIMS.UPDATE", []byte(accJWT))
	if err != nil {
		return fmt.Errorf("the revocation could not be pushed to the team server: %w", err)
	}
	var reply struct {
		Error *struct {
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := jsonUnmarshal(msg.Data, &reply); err == nil && reply.Error != nil {
		return fmt.Errorf("the team server refused the account update: %s", reply.Error.Description)
	}
	return nil
}

// WaitJetStream returns once the account's JetStream answers: in a cluster,
// once the nodes have elected a meta leader. It asks again after each
// failure (50 ms apart) until ctx ends.
func (s *Server) WaitJetStream(ctx context.Context) error {
	for {
		actx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := s.js.AccountInfo(actx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the team server's JetStream did not come up: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
