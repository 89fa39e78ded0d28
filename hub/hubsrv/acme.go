package hubsrv

import (
	"crypto/tls"
	"path/filepath"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// ACME makes the manager that gets and renews the hub's certificate for
// domain from the ACME CA at directory (empty: Let's Encrypt), caching it
// in the state folder. Its challenges are TLS-ALPN-01, answered by
// ACMEConfig on the hub's one listener: no port 80 needed.
func ACME(stateDir, domain, directory, email string, client *acme.Client) *autocert.Manager {
	if client == nil {
		client = &acme.Client{}
	}
	if directory != "" {
		client.DirectoryURL = directory
	}
	return &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      autocert.DirCache(filepath.Join(stateDir, "acme")),
		HostPolicy: autocert.HostWhitelist(domain),
		Email:      email,
		Client:     client,
	}
}

// ACMEConfig is the hub's TLS with m's certificates: TLS 1.3, HTTP/1.1 for
// the WebSocket upgrade, and acme-tls/1 so the CA's TLS-ALPN-01 check
// reaches m on the same port.
func ACMEConfig(m *autocert.Manager) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS13,
		GetCertificate: m.GetCertificate,
		NextProtos:     []string{"http/1.1", acme.ALPNProto},
	}
}
