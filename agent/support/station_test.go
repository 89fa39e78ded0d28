//go:build !windows

// The station side of the tests imports core (SQLite, cgo), so it stays out
// of the Windows vet of ./agent/...

package support_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"adhocstation/core"
	"adhocstation/core/wire"
)

// serveStation starts an HTTPS pairing endpoint for st on 127.0.0.1 and
// returns its URL and the pin of its certificate.
// STAND-IN until core/pairing lands: it maps the wire calls onto core.
func serveStation(t *testing.T, st *core.Station) (string, []string) {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any, err error) {
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			we := wire.Error{Code: wire.CodeInternal, Message: err.Error()}
			var ce *core.CodeError
			var re *core.RateLimitError
			switch {
			case errors.As(err, &ce):
				we.Code, we.AttemptsLeft = wire.CodeInvalidCode, ce.AttemptsLeft
			case errors.As(err, &re):
				we.Code, we.RetryAfterSeconds = wire.CodeRateLimited, int(re.RetryAfter.Seconds())
			case errors.Is(err, core.ErrCodeBurned):
				we.Code = wire.CodeCodeBurned
			case errors.Is(err, core.ErrNotWindows):
				we.Code = wire.CodeNotWindows
			case errors.Is(err, core.ErrInvitationExpired):
				we.Code = wire.CodeInvitationExpired
			case errors.Is(err, core.ErrAlreadyPaired):
				we.Code = wire.CodeAlreadyPaired
			case errors.Is(err, core.ErrUnknownToken):
				we.Code = wire.CodeUnknownToken
			case errors.Is(err, core.ErrSessionClosed):
				we.Code = wire.CodeSessionClosed
			}
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(we)
			return
		}
		json.NewEncoder(w).Encode(v)
	}
	status := func(s core.Session) wire.StatusResponse {
		return wire.StatusResponse{State: string(s.State), ExpiresAt: s.ExpiresAt}
	}
	mux.HandleFunc("POST /api/v1/pair", func(w http.ResponseWriter, r *http.Request) {
		var req wire.PairRequest
		json.NewDecoder(r.Body).Decode(&req)
		f := req.Facts
		p, err := st.Pair(r.Context(), core.PairRequest{Token: req.Token, Code: req.Code, RemoteAddr: r.RemoteAddr,
			Facts: core.ComputerFacts{Hostname: f.Hostname, OSName: f.OSName, OSVersion: f.OSVersion, Arch: f.Arch,
				WindowsUser: f.WindowsUser, MachineID: f.MachineID}})
		reply(w, wire.PairResponse{SessionID: p.Session.ID, Technician: wire.Technician{Name: p.Session.ProfileName,
			Email: p.Session.ProfileEmail}, AccountName: "AdHocRemoteUser", Password: p.Password, AgentKey: p.AgentKey,
			ActivatedAt: p.Session.ActivatedAt, ExpiresAt: p.Session.ExpiresAt}, err)
	})
	agent := func(path string, do func(r *http.Request, req wire.AgentRequest) (core.Session, error)) {
		mux.HandleFunc("POST /api/v1/"+path, func(w http.ResponseWriter, r *http.Request) {
			var req wire.AgentRequest
			json.NewDecoder(r.Body).Decode(&req)
			s, err := do(r, req)
			reply(w, status(s), err)
		})
	}
	agent("confirm", func(r *http.Request, req wire.AgentRequest) (core.Session, error) {
		return core.Session{State: core.StateActive}, st.ConfirmAccount(r.Context(), req.AgentKey)
	})
	agent("heartbeat", func(r *http.Request, req wire.AgentRequest) (core.Session, error) {
		return st.Heartbeat(r.Context(), req.AgentKey)
	})
	agent("end", func(r *http.Request, req wire.AgentRequest) (core.Session, error) {
		return core.Session{State: core.StateEnded}, st.EndByUser(r.Context(), req.AgentKey)
	})
	agent("cleanup", func(r *http.Request, req wire.AgentRequest) (core.Session, error) {
		return core.Session{State: core.StateEnded}, st.CleanupReceipt(r.Context(), req.AgentKey, req.Detail)
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	sum := sha256.Sum256(srv.Certificate().RawSubjectPublicKeyInfo)
	return srv.URL, []string{base64.StdEncoding.EncodeToString(sum[:])}
}
