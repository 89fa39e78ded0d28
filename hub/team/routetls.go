package team

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// RouteTLS is the TLS of a cluster's routes (docs/TEAM.md "Cluster"): a
// route is both a client and a server, so each node presents the hub's
// certificate (hub: its PEM pair or its ACME manager) on its route listener
// and when it dials, and checks the peer's for name against roots, the trust
// the hub's nodes already use for -hub-node-url. The name is the hub's, not
// the route URL's host: routes may run on private addresses, and the nodes
// learn each other's addresses by gossip (IPs).
func RouteTLS(hub *tls.Config, name string, roots *x509.CertPool) *tls.Config {
	own := func() (*tls.Certificate, error) {
		if len(hub.Certificates) > 0 {
			return &hub.Certificates[0], nil
		}
		if hub.GetCertificate != nil {
			return hub.GetCertificate(&tls.ClientHelloInfo{ServerName: name})
		}
		return nil, errors.New("the hub has no certificate for its routes")
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		ServerName: name,
		RootCAs:    roots,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return own()
		},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return own()
		},
		// The dialling node's certificate is checked in VerifyConnection:
		// Go's own client check wants the clientAuth key usage, which
		// public CAs no longer put in server certificates.
		ClientAuth: tls.RequireAnyClientCert,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyPeer(cs.PeerCertificates, name, roots)
		},
	}
}

// verifyPeer checks a route peer's chain for the hub's name, whatever its
// key usage (the same certificate serves both ends of a route).
func verifyPeer(chain []*x509.Certificate, name string, roots *x509.CertPool) error {
	if len(chain) == 0 {
		return errors.New("the route peer presented no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return fmt.Errorf("the route peer's certificate is not one of this hub's (%s): %w", name, err)
	}
	return nil
}
