package team

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// RouteTLS is the TLS of a cluster's routes (docs/TEAM.md "Cluster"): a
// route is both a client and a server, so each node presents the hub's
// certificate (hub: its PEM pair, or its ACME manager's for name) on its
// route listener and when it dials, and checks the peer's for name against
// roots, the trust the hub's nodes already use for -hub-node-url. The name is the hub's, not
// the route URL's host: routes may run on private addresses, and the nodes
// learn each other's addresses by gossip (IPs).
func RouteTLS(hub *tls.Config, name string, roots *x509.CertPool) *tls.Config {
	own := func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if len(hub.Certificates) > 0 {
			return &hub.Certificates[0], nil
		}
		if hub.GetCertificate != nil {
			return hub.GetCertificate(hello)
		}
		return nil, errors.New("the hub has no certificate for its routes")
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS13,
		ServerName:     name,
		RootCAs:        roots,
		GetCertificate: own, // the dialling node asks for name
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			// ACME's manager picks its certificate by the hello: ask as a
			// TLS 1.3 client would for name, so it gives the ECDSA one it
			// serves (an empty hello would make it order an RSA one).
			return own(&tls.ClientHelloInfo{ServerName: name, SignatureSchemes: cri.SignatureSchemes,
				SupportedCurves:   []tls.CurveID{tls.X25519, tls.CurveP256},
				CipherSuites:      []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
				SupportedVersions: []uint16{tls.VersionTLS13}})
		},
		// The dialling node's certificate is checked in VerifyConnection
		// as a server certificate of the hub: Go's own client check wants
		// the clientAuth key usage, which public CAs no longer issue.
		ClientAuth: tls.RequireAnyClientCert,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyPeer(cs.PeerCertificates, name, roots)
		},
	}
}

// verifyPeer checks a route peer's chain as the hub's server certificate,
// for its name (the same certificate serves both ends of a route).
func verifyPeer(chain []*x509.Certificate, name string, roots *x509.CertPool) error {
	if len(chain) == 0 {
		return errors.New("the route peer presented no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter}); err != nil {
		return fmt.Errorf("the route peer's certificate is not one of this hub's (%s): %w", name, err)
	}
	return nil
}
