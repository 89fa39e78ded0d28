package team

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"adhocstation/core/wire/landing"
)

// keyFile is the team server's secret state, STATE/team/keys.json (0600).
// It holds seeds, not JWTs: the JWTs are signed again from the seeds at
// every start, so the revocation list is the only claim state to keep.
type keyFile struct {
	Operator    string `json:"operator"`     // operator seed (signs account JWTs)
	Account     string `json:"account"`      // the stations' account seed (signs user JWTs)
	SysAccount  string `json:"sys_account"`  // system account seed
	SysUser     string `json:"sys_user"`     // the hub's own system user (pushes account updates)
	AdminUser   string `json:"admin_user"`   // the hub's own user in the stations' account (makes buckets)
	RouteSecret string `json:"route_secret"` // password the cluster's nodes give each other on their routes
	// Revoked maps a station's user public key to the Unix second it was
	// revoked: every JWT issued to that key up to then is refused.
	Revoked map[string]int64 `json:"revoked,omitempty"`
	// RevokedStations is kept so the hub never issues a new JWT to a
	// station id it has revoked (the revocation covers only older JWTs).
	RevokedStations map[string]int64 `json:"revoked_stations,omitempty"`
}

// Keys are the hub's operator, account and system identities.
type Keys struct {
	path string
	mu   sync.Mutex // f, when nodes in one process share the keys (tests)
	f    keyFile

	operator, account, sysAccount, sysUser, adminUser nkeys.KeyPair
}

// LoadOrCreateKeys reads STATE/team/keys.json, or makes new keys and writes
// it (0600) when there is none. The nodes of a cluster must share one file:
// copy it to each node's state folder before their first start.
func LoadOrCreateKeys(stateDir string) (*Keys, error) {
	dir := filepath.Join(stateDir, "team")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "keys.json")
	k := &Keys{path: path}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &k.f); err != nil {
			return nil, fmt.Errorf("the team keys file %s cannot be read (%v): restore it from a backup; deleting it makes every station's credential invalid", path, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		if err := k.generate(); err != nil {
			return nil, err
		}
		if err := k.save(); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	if err := k.parse(); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Keys) generate() error {
	seed := func(create func() (nkeys.KeyPair, error)) (string, error) {
		kp, err := create()
		if err != nil {
			return "", err
		}
		s, err := kp.Seed()
		return string(s), err
	}
	var err error
	if k.f.Operator, err = seed(nkeys.CreateOperator); err != nil {
		return err
	}
	if k.f.Account, err = seed(nkeys.CreateAccount); err != nil {
		return err
	}
	if k.f.SysAccount, err = seed(nkeys.CreateAccount); err != nil {
		return err
	}
	if k.f.SysUser, err = seed(nkeys.CreateUser); err != nil {
		return err
	}
	if k.f.AdminUser, err = seed(nkeys.CreateUser); err != nil {
		return err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	k.f.RouteSecret = hex.EncodeToString(secret)
	return nil
}

func (k *Keys) parse() error {
	for _, p := range []struct {
		seed string
		kp   *nkeys.KeyPair
	}{
		{k.f.Operator, &k.operator}, {k.f.Account, &k.account}, {k.f.SysAccount, &k.sysAccount},
		{k.f.SysUser, &k.sysUser}, {k.f.AdminUser, &k.adminUser},
	} {
		kp, err := nkeys.FromSeed([]byte(p.seed))
		if err != nil {
			return fmt.Errorf("the team keys file %s holds a broken key: restore it from a backup", k.path)
		}
		*p.kp = kp
	}
	if k.f.Revoked == nil {
		k.f.Revoked = map[string]int64{}
	}
	if k.f.RevokedStations == nil {
		k.f.RevokedStations = map[string]int64{}
	}
	return nil
}

// save writes the file atomically: a temp file (0600) renamed over it.
func (k *Keys) save() error {
	b, err := json.MarshalIndent(k.f, "", "  ")
	if err != nil {
		return err
	}
	return landing.WriteFile(k.path, b, 0o600)
}

func pub(kp nkeys.KeyPair) string {
	p, err := kp.PublicKey()
	if err != nil {
		panic(err) // a parsed key pair always has its public key
	}
	return p
}

// AccountPublicKey is the stations' account, for a station's JWT check.
func (k *Keys) AccountPublicKey() string { return pub(k.account) }

func (k *Keys) operatorClaims() (*jwt.OperatorClaims, string, error) {
	oc := jwt.NewOperatorClaims(pub(k.operator))
	oc.Name = "adhoc-hub"
	oc.SystemAccount = pub(k.sysAccount)
	s, err := oc.Encode(k.operator)
	return oc, s, err
}

// accountJWT signs the stations' account: JetStream on, and the revocations.
func (k *Keys) accountJWT() (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.accountJWTLocked()
}

func (k *Keys) accountJWTLocked() (string, error) {
	ac := jwt.NewAccountClaims(pub(k.account))
	ac.Name = "stations"
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	for key, at := range k.f.Revoked {
		ac.RevokeAt(key, time.Unix(at, 0))
	}
	return ac.Encode(k.operator)
}

func (k *Keys) sysAccountJWT() (string, error) {
	ac := jwt.NewAccountClaims(pub(k.sysAccount))
	ac.Name = "SYS"
	return ac.Encode(k.operator)
}

// internalUserJWT signs a user of the hub itself (no permission limits).
func internalUserJWT(user, account nkeys.KeyPair, name string) (string, error) {
	uc := jwt.NewUserClaims(pub(user))
	uc.Name = name
	return uc.Encode(account)
}

// mergeRevocations adds to the keys' revocations those of the account JWT
// in res (the newest this node has: pushed by any node), and saves the file
// if that added any. The latest time wins for a key.
func (k *Keys) mergeRevocations(res *server.DirAccResolver) error {
	theJWT, err := res.LoadAcc(pub(k.account))
	if err != nil || theJWT == "" {
		return nil // nothing stored yet
	}
	ac, err := jwt.DecodeAccountClaims(theJWT)
	if err != nil {
		return fmt.Errorf("the stored account JWT cannot be read: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	added := false
	for key, at := range ac.Revocations {
		if at > k.f.Revoked[key] {
			k.f.Revoked[key] = at
			added = true
		}
	}
	if !added {
		return nil
	}
	return k.save()
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
