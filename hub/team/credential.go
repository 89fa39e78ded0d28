package team

import (
	"encoding/json"
	"errors"
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

// CredentialResponse carries the signed user JWT.
type CredentialResponse struct {
	JWT     string `json:"jwt"`
	Team    string `json:"team"`
	Expires int64  `json:"expires"` // Unix seconds
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
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(CredentialResponse{JWT: jwt, Team: teamID, Expires: time.Now().Add(CredentialTTL).Unix()})
	})
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}
