// Package pairing is the station's HTTPS pairing service. STUB by the lead so
// the station builds; the pairing engineer replaces it.
package pairing

import (
	"context"
	"errors"

	"adhocstation/core"
)

// Options override settings for tests.
type Options struct {
	ListenAddr string // overrides the saved pairing address, e.g. "127.0.0.1:0"
}

// Server is the running pairing service.
type Server struct{}

// Start starts the pairing service for st.
func Start(ctx context.Context, st *core.Station, opts Options) (*Server, error) {
	return nil, errors.New("the pairing service is not built yet")
}

// Close stops the service.
func (s *Server) Close() error { return nil }
