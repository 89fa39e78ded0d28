package team

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"adhocstation/core/refusal"

	"github.com/nats-io/nkeys"
)

// ErrNoTeam: the hub answered that this station belongs to no team.
var ErrNoTeam = refusal.New("no_team", "This station belongs to no team at its hub, so it keeps its own seats. To share a team's seats, ask the hub's admin for a code made with adhoc-hub enrol -team NAME and join the hub again.")

// Credential is the hub's answer to a station of a team (hub/team.CredentialResponse).
type Credential struct {
	JWT     string   `json:"jwt"`
	Team    string   `json:"team"`
	Expires int64    `json:"expires"`
	URLs    []string `json:"urls"`
	Seats   int      `json:"seats"`
}

// FetchCredential asks the hub (POST url with the station's hub credential
// as a bearer token) for a user JWT for the public key of seed, with the
// team's name, NATS URLs and seats. ErrNoTeam: the station is in no team;
// ErrRevoked: the hub revoked it; other errors: the hub could not be asked.
func FetchCredential(ctx context.Context, client *http.Client, url, credential string, seed []byte) (Credential, error) {
	kp, err := nkeys.FromSeed(seed)
	if err != nil {
		return Credential{}, err
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return Credential{}, err
	}
	body, _ := json.Marshal(map[string]string{"user_public_key": pub})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Credential{}, err
	}
	req.Header.Set("Authorization", "Bearer "+credential)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Credential{}, err
	}
	defer resp.Body.Close()
	var out struct {
		Credential
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out); err != nil {
		if resp.StatusCode == http.StatusNotFound { // a hub from before teams
			return Credential{}, ErrNoTeam
		}
		return Credential{}, fmt.Errorf("the hub's team credential answer (HTTP %d) could not be read: %w", resp.StatusCode, err)
	}
	switch {
	case resp.StatusCode == http.StatusForbidden && out.Code == "station_revoked":
		return Credential{}, ErrRevoked
	case resp.StatusCode == http.StatusNotFound && out.Code == "no_team":
		return Credential{}, ErrNoTeam
	case resp.StatusCode != http.StatusOK || out.JWT == "":
		return Credential{}, fmt.Errorf("the hub refused a team credential (HTTP %d, %s): %s", resp.StatusCode, out.Code, out.Message)
	}
	return out.Credential, nil
}

// FetchJWT returns a Config.JWT function that asks the hub for a fresh user
// JWT over HTTPS (FetchCredential) at each call.
func FetchJWT(client *http.Client, url, credential string, seed []byte) (func() (string, error), error) {
	if _, err := nkeys.FromSeed(seed); err != nil {
		return nil, err
	}
	return func() (string, error) {
		c, err := FetchCredential(context.Background(), client, url, credential, seed)
		if errors.Is(err, ErrNoTeam) {
			return "", err
		}
		return c.JWT, err
	}, nil
}
