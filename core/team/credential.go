package team

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/nats-io/nkeys"
)

// FetchJWT returns a Config.JWT function that asks the hub for a fresh user
// JWT over HTTPS (POST url with the station's hub credential as a bearer
// token), for the public key of seed. The hub answers per
// hub/team.CredentialHandler.
func FetchJWT(client *http.Client, url, credential string, seed []byte) (func() (string, error), error) {
	kp, err := nkeys.FromSeed(seed)
	if err != nil {
		return nil, err
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(map[string]string{"user_public_key": pub})
	return func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", "Bearer "+credential)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var out struct {
			JWT     string `json:"jwt"`
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out); err != nil {
			return "", fmt.Errorf("the hub's team credential answer (HTTP %d) could not be read: %w", resp.StatusCode, err)
		}
		if resp.StatusCode == http.StatusForbidden && out.Code == "station_revoked" {
			return "", ErrRevoked
		}
		if resp.StatusCode != http.StatusOK || out.JWT == "" {
			return "", fmt.Errorf("the hub refused a team credential (HTTP %d, %s): %s", resp.StatusCode, out.Code, out.Message)
		}
		return out.JWT, nil
	}, nil
}
