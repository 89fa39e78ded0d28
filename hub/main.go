// Command adhoc-hub is the relay hub that stations and Support Session apps
// both dial out to on port 443 (docs/HUB.md).
//
//	adhoc-hub [-listen :443] -cert FILE -key FILE [-state DIR]   serve with a given certificate
//	adhoc-hub [-listen :443] -acme-domain NAME [-state DIR]      serve with an ACME certificate
//	adhoc-hub enrol [-state DIR] [-team NAME]                    print a one-time enrolment code (for a station of team NAME)
//	adhoc-hub revoke [-state DIR] STATION_ID                     cut a station: relay, web forwarding and team
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"adhocstation/hub/hubsrv"
	"adhocstation/hub/team"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) > 0 && args[0] == "enrol" {
		fs := flag.NewFlagSet("enrol", flag.ContinueOnError)
		state := fs.String("state", "/var/lib/adhoc-hub", "the hub's state folder")
		teamID := fs.String("team", "", "the team the station will belong to (one of the hub's -teams); empty: no team")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *teamID != "" && !team.ValidID(*teamID) {
			return fmt.Errorf("the team name %q may use only letters, digits, _ and -", *teamID)
		}
		code, err := hubsrv.NewTeamCode(*state, time.Now(), *teamID)
		if err != nil {
			return err
		}
		fmt.Println(code)
		hubsrv.AdminPublishCodes(*state) // a running node of a cluster shares it with the others now
		if *teamID != "" {
			fmt.Fprintf(os.Stderr, "One-time code for a station of team %s, valid for %s: on the station, join this hub with it. The hub must run with -team-listen and -teams %s=SEATS.\n", *teamID, hubsrv.CodeLifetime, *teamID)
		} else {
			fmt.Fprintf(os.Stderr, "One-time code, valid for %s: on the station, join this hub with it.\n", hubsrv.CodeLifetime)
		}
		return nil
	}
	if len(args) > 0 && args[0] == "revoke" {
		fs := flag.NewFlagSet("revoke", flag.ContinueOnError)
		state := fs.String("state", "/var/lib/adhoc-hub", "the running hub's state folder")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: adhoc-hub revoke [-state DIR] STATION_ID")
		}
		if err := hubsrv.AdminRevoke(*state, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "Station %s is revoked: its relays and team connection are cut. To bring it back, enrol it again with a new code.\n", fs.Arg(0))
		return nil
	}
	fs := flag.NewFlagSet("adhoc-hub", flag.ContinueOnError)
	listen := fs.String("listen", ":443", "address of the hub's one TLS listener")
	certFile := fs.String("cert", "", "PEM certificate chain for the hub's public name")
	keyFile := fs.String("key", "", "PEM private key of -cert")
	state := fs.String("state", "/var/lib/adhoc-hub", "the hub's state folder (enrolled stations, codes, ACME cache)")
	domain := fs.String("acme-domain", "", "get the certificate for this public name by ACME (TLS-ALPN-01 on -listen, which must be reachable on port 443)")
	directory := fs.String("acme-directory", "", "ACME directory URL (default: Let's Encrypt)")
	email := fs.String("acme-email", "", "contact address given to the ACME CA (optional)")
	relayIdle := fs.Duration("relay-idle", hubsrv.DefaultRelayIdle, "close a relay that carried no byte either way for this long (0: never)")
	plain := fs.Bool("plain-data-legs", true, "let stations carry relays to the hub as plain TCP under their end-to-end TLS (false: always a TLS WebSocket; docs/HUB.md)")
	perStation := fs.Int("relays-per-station", hubsrv.DefaultRelaysPerStation, "most relays to one station at once (then 429 too_many_relays)")
	teamFlags := addTeamFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *teamFlags.nodeURL != "" && *teamFlags.listen == "" {
		return fmt.Errorf("-hub-node-url needs the team server (-team-listen ... -team-cluster ...): the nodes share their state through it")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if os.Getenv("GOGC") == "" {
		// The hub's memory is mostly live connection state and its work
		// (splicing through pooled buffers) allocates little, so a tighter
		// heap costs little CPU: after 1,000 PCs connect, RSS peaks at
		// about 80 MB instead of 99 (docs/PERFORMANCE.md "Relay hub").
		debug.SetGCPercent(50)
	}
	srv, err := hubsrv.New(*state, log)
	if err != nil {
		return err
	}
	if *perStation < 1 {
		return fmt.Errorf("-relays-per-station must be at least 1, not %d", *perStation)
	}
	srv.RelayIdle = *relayIdle
	srv.SetPlainDataLegs(*plain)
	srv.SetRelaysPerStation(*perStation)
	var cfg *tls.Config
	switch {
	case *domain != "" && *certFile == "":
		cfg = hubsrv.ACMEConfig(hubsrv.ACME(*state, *domain, *directory, *email, nil))
	case *domain == "" && *certFile != "" && *keyFile != "":
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return fmt.Errorf("the certificate %s and key %s could not be loaded: %w", *certFile, *keyFile, err)
		}
		cfg = hubsrv.TLSConfig(cert)
	default:
		return fmt.Errorf("the hub needs its certificate: pass either -acme-domain NAME or -cert and -key (PEM files)")
	}
	ts, stopTeam, err := startTeam(teamFlags, *state, log, cfg, *domain)
	if err != nil {
		return err
	}
	defer stopTeam()
	if ts != nil {
		srv.SetTeam(ts, teamFlags.teamURLs())
		cc, err := teamFlags.clusterConfig(*domain, cfg)
		if err != nil {
			return err
		}
		srv.SetCluster(cc)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("the hub could not listen on %s: %w", *listen, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go logStatusOnSignal(ctx, log, srv)
	if ts != nil {
		go func() {
			if err := srv.RunCluster(ctx); err != nil {
				log.Error("cluster: the node does not share its relay state", "err", err)
			}
		}()
	}
	if aln, err := srv.ListenAdmin(); err != nil {
		log.Error("no admin socket: adhoc-hub revoke cannot reach this hub", "err", err)
	} else {
		go func() {
			if err := srv.ServeAdmin(ctx, aln); err != nil {
				log.Error("the admin socket stopped: adhoc-hub revoke cannot reach this hub", "err", err)
			}
		}()
	}
	log.Info("hub listening", "addr", ln.Addr().String())
	return srv.Serve(ctx, ln, cfg)
}

// logStatusOnSignal logs what the hub carries and its memory each time it
// gets SIGUSR1 (kill -USR1 PID): the admin's look inside without a port.
func logStatusOnSignal(ctx context.Context, log *slog.Logger, srv *hubsrv.Server) {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-usr1:
		}
		st := srv.Status()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		log.Info("status", "enrolled", st.Enrolled, "online", st.Online, "streams", st.Streams, "waiting", st.Waiting, "spliced", st.Spliced, "plain_legs", st.PlainLegs, "idle_cut", st.IdleCut,
			"goroutines", runtime.NumGoroutine(), "heap_live_kb", ms.HeapAlloc>>10, "heap_inuse_kb", ms.HeapInuse>>10,
			"heap_idle_kb", ms.HeapIdle>>10, "heap_released_kb", ms.HeapReleased>>10, "stack_kb", ms.StackInuse>>10,
			"sys_kb", ms.Sys>>10, "gc_cycles", ms.NumGC)
	}
}
