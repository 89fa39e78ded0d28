package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"adhocstation/hub/hubsrv"
	"adhocstation/hub/team"
)

// teamFlags turn on the team server (docs/TEAM.md): an embedded NATS
// JetStream node beside the relay, off unless -team-listen is given.
type teamFlags struct {
	listen, name, cluster, routes, teams, urls *string
	replicas                                   *int
	nodeURL, nodeName                          *string
	routesPlain                                *bool
}

func addTeamFlags(fs *flag.FlagSet) teamFlags {
	return teamFlags{
		listen:      fs.String("team-listen", "", "run the team server (NATS JetStream) on HOST:PORT for stations' shared seats and session list (off when empty)"),
		name:        fs.String("team-node", "hub", "this team node's name, unique in a cluster"),
		cluster:     fs.String("team-cluster", "", "HOST:PORT of this node's route listener, for a 3-node cluster (every node needs the same STATE/team/keys.json)"),
		routes:      fs.String("team-routes", "", "comma-separated route URLs of all cluster nodes, e.g. nats-route://10.0.0.1:6222,..."),
		replicas:    fs.Int("team-replicas", 1, "replicas of each team bucket: 1, or 3 in a 3-node cluster"),
		teams:       fs.String("teams", "", "teams and their seats, e.g. acme=5,branch=3"),
		nodeURL:     fs.String("hub-node-url", "", "in a cluster of hubs: https://HOST:PORT where the other nodes reach this node's -listen (a private address will do), so they forward relays for the stations held here"),
		nodeName:    fs.String("hub-node-name", "", "the name the nodes' certificates are checked for when they dial each other (default: -acme-domain, or the first DNS name of -cert)"),
		routesPlain: fs.Bool("team-routes-plain", false, "run the cluster's routes as plain TCP, without TLS: for a private network or VPN only (default: TLS 1.3 with the hub's certificate)"),
		urls:        fs.String("team-urls", "", "comma-separated team server URLs stations dial, e.g. tls://n1.example.org:4222,... (default: the hub's name as the station reached it, on -team-listen's port)"),
	}
}

// startTeam starts the team node when -team-listen is set and returns it
// (nil when off) and its stop. tlsCfg is the hub's certificate: the team
// listener is TLS only with it, and so are a cluster's routes (domain is
// -acme-domain, for the name the nodes check).
func startTeam(f teamFlags, state string, log *slog.Logger, tlsCfg *tls.Config, domain string) (*team.Server, func(), error) {
	if *f.listen == "" {
		return nil, func() {}, nil
	}
	host, port, err := splitHostPort(*f.listen)
	if err != nil {
		return nil, nil, fmt.Errorf("-team-listen %q: %w", *f.listen, err)
	}
	keys, err := team.LoadOrCreateKeys(state)
	if err != nil {
		return nil, nil, err
	}
	cfg := team.Config{StateDir: state, Name: *f.name, Host: host, Port: port, Replicas: *f.replicas, Log: log, TLS: tlsCfg}
	if *f.cluster != "" {
		ch, cp, err := splitHostPort(*f.cluster)
		if err != nil {
			return nil, nil, fmt.Errorf("-team-cluster %q: %w", *f.cluster, err)
		}
		cfg.ClusterName, cfg.ClusterHost, cfg.ClusterPort = "adhoc-hub", ch, cp
		cfg.RoutesPlain = *f.routesPlain
		if tlsCfg != nil && !cfg.RoutesPlain {
			name, roots, err := f.nodeTrust(domain, tlsCfg)
			if err != nil {
				return nil, nil, fmt.Errorf("-team-cluster: %w", err)
			}
			cfg.RouteTLS = team.RouteTLS(tlsCfg, name, roots)
		}
		for r := range strings.SplitSeq(*f.routes, ",") {
			if r = strings.TrimSpace(r); r != "" {
				cfg.Routes = append(cfg.Routes, r)
			}
		}
	}
	srv, err := team.Start(cfg, keys)
	if err != nil {
		return nil, nil, err
	}
	if *f.teams != "" {
		// In a cluster the bucket can be made only once the nodes elected a
		// JetStream leader: wait for it (the other nodes may start later).
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := srv.WaitJetStream(ctx); err != nil {
			srv.Shutdown()
			return nil, nil, err
		}
		for spec := range strings.SplitSeq(*f.teams, ",") {
			id, seats, ok := strings.Cut(strings.TrimSpace(spec), "=")
			n, err := strconv.Atoi(seats)
			if !ok || err != nil {
				srv.Shutdown()
				return nil, nil, fmt.Errorf("-teams: %q is not TEAM=SEATS", spec)
			}
			if err := srv.EnsureTeam(ctx, id, n); err != nil {
				srv.Shutdown()
				return nil, nil, err
			}
		}
	}
	log.Info("team server listening", "url", srv.ClientURL(), "cluster", srv.ClusterURL())
	return srv, srv.Shutdown, nil
}

func splitHostPort(hp string) (string, int, error) {
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	return h, n, err
}

// teamURLs is -team-urls as a list.
func (f teamFlags) teamURLs() []string {
	var out []string
	for u := range strings.SplitSeq(*f.urls, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// clusterConfig is this node's part in a cluster of hubs (docs/HUB.md
// "Cluster"): the other nodes dial -hub-node-url and check its certificate
// for the hub's public name, which every node serves.
func (f teamFlags) clusterConfig(domain string, cfg *tls.Config) (hubsrv.ClusterConfig, error) {
	cc := hubsrv.ClusterConfig{NodeURL: *f.nodeURL}
	if cc.NodeURL == "" {
		return cc, nil
	}
	if u, err := url.Parse(cc.NodeURL); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return cc, fmt.Errorf("-hub-node-url %q must be https://HOST:PORT", cc.NodeURL)
	}
	name, roots, err := f.nodeTrust(domain, cfg)
	if err != nil {
		return cc, fmt.Errorf("-hub-node-url: %w", err)
	}
	cc.NodeClient = &http.Client{Transport: &http.Transport{
		Proxy:               nil, // the nodes reach each other directly
		DialContext:         (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     &tls.Config{ServerName: name, RootCAs: roots, MinVersion: tls.VersionTLS13},
		TLSHandshakeTimeout: 5 * time.Second,
	}}
	return cc, nil
}

// nodeTrust is how the nodes of a cluster of hubs know each other, both
// for -hub-node-url and for the team routes: a certificate for the hub's
// name (name), trusted by the system's roots or, for a private certificate
// (self-signed, or of a private CA whose chain the file holds), by being
// the one this node serves too (roots).
func (f teamFlags) nodeTrust(domain string, cfg *tls.Config) (string, *x509.CertPool, error) {
	name := *f.nodeName
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if domain != "" && name == "" {
		name = domain
	}
	if len(cfg.Certificates) > 0 {
		for _, der := range cfg.Certificates[0].Certificate {
			if c, err := x509.ParseCertificate(der); err == nil {
				roots.AddCert(c)
				if name == "" && len(c.DNSNames) > 0 {
					name = c.DNSNames[0]
				}
			}
		}
	}
	if name == "" {
		return "", nil, fmt.Errorf("the nodes check each other's certificate for the hub's public name, and this certificate names none: pass -hub-node-name NAME")
	}
	return name, roots, nil
}
