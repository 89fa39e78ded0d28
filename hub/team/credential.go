package team

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// CredentialTTL is how long a station's user JWT lives: the station asks
// again at every (re)connect, and the server closes a connection whose JWT
// expired, so a station the hub stops serving drops out within it even
// without a revocation.
const CredentialTTL = time.Hour

// CredentialRequest is what a station posts: its NATS user public key (the
// seed stays on the station).
type CredentialRequest struct {
	UserPublicKey string `json:"user_public_key"`
}

// CredentialResponse carries the signed user JWT, and what the station
// needs to join: the team's NATS URLs and its seat count.
type CredentialResponse struct {
	JWT     string   `json:"jwt"`
	Team    string   `json:"team"`
	Expires int64    `json:"expires"` // Unix seconds
	URLs    []string `json:"urls,omitempty"`
	Seats   int      `json:"seats,omitempty"`
}

// Authenticate names the station and its team for a request (the relay's
// station credential, checked by the hub's HTTP server), or refuses it.
type Authenticate func(r *http.Request) (stationID, teamID string, err error)

// CredentialHandler answers POST {user_public_key} with a user JWT scoped
// to the station's team. The hub's HTTPS server mounts it behind its own
// station authentication (docs/TEAM.md); it is not mounted by this package.
func (s *Server) CredentialHandler(auth Authenticate) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		station, teamID, err := auth(r)
		if err != nil {
			writeJSONError(w, http.StatusUnauthorized, "bad_credential", "The hub does not know this station's credential: join the hub again.")
			return
		}
		var req CredentialRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
			writeJSONError(w, http.StatusBadRequest, "bad_request", "The request could not be read.")
			return
		}
		jwt, err := s.IssueUser(teamID, station, req.UserPublicKey, CredentialTTL)
		switch {
		case errors.Is(err, ErrStationRevoked):
			writeJSONError(w, http.StatusForbidden, "station_revoked", "The hub's admin revoked this station's place in the team. Ask them to enrol it again under a new name.")
			return
		case err != nil:
			writeJSONError(w, http.StatusBadRequest, "bad_request", "The hub cannot issue a team credential for this request: "+err.Error()+".")
			return
		}
		resp := CredentialResponse{JWT: jwt, Team: teamID, Expires: time.Now().Add(CredentialTTL).Unix()}
		if s.urls != nil {
			resp.URLs = s.urls(r)
		}
		resp.Seats, _ = s.Seats(r.Context(), teamID) // 0: unknown, the station reads it from the bucket
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(resp)
	})
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}

// SetStationURLs makes CredentialHandler tell stations where to dial the
// team server: urls gets the station's request (the hub's name as the
// station reached it). Set it before serving.
func (s *Server) SetStationURLs(urls func(r *http.Request) []string) { s.urls = urls }

// Seats is the team's seat count as the hub wrote it (EnsureTeam).
func (s *Server) Seats(ctx context.Context, teamID string) (int, error) {
	if !ValidID(teamID) {
		return 0, fmt.Errorf("the team id %q is not valid", teamID)
	}
	kv, err := s.js.KeyValue(ctx, Bucket(teamID))
	if err != nil {
		return 0, fmt.Errorf("the team %s has no bucket on this hub (start it with -teams %s=SEATS): %w", teamID, teamID, err)
	}
	e, err := kv.Get(ctx, ConfigKey)
	if err != nil {
		return 0, err
	}
	var c struct {
		Seats int `json:"seats"`
	}
	if err := json.Unmarshal(e.Value(), &c); err != nil {
		return 0, err
	}
	return c.Seats, nil
}
