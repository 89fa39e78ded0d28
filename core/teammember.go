package core

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
)

// The team of stations (docs/TEAM.md) this station belongs to through its
// hub, as the pairing service last learned it from the hub: kept so the
// station starts on its offline share when the hub is unreachable. It is
// sealed in the secrets table like the hub configuration, because it holds
// the station's NATS user seed (only its public key goes to the hub).
const secretTeam = "team"

// TeamMembership is the station's place in a team.
type TeamMembership struct {
	HubStation string   `json:"hub_station"` // the hub station id it was learned under
	Team       string   `json:"team"`
	URLs       []string `json:"urls"`
	Seed       []byte   `json:"seed"`     // NATS user nkey seed: a secret
	Seats      int      `json:"seats"`    // last known seat count
	Stations   int      `json:"stations"` // last known stations online, this one included
	// Members are the team's other stations as last seen, by hub id: their
	// names, and their pins that this station's PCs are told (a takeover),
	// also while those stations are offline.
	Members map[string]TeamPeer `json:"members,omitempty"`
}

// TeamPeer is another station of the team as last seen.
type TeamPeer struct {
	Name string `json:"name,omitempty"`
	Pin  string `json:"pin,omitempty"`
}

// TeamMembership returns the stored membership; false when none.
func (s *Station) TeamMembership(ctx context.Context) (TeamMembership, bool, error) {
	var m TeamMembership
	var sealed []byte
	err := s.rdb.QueryRowContext(ctx, `SELECT sealed FROM secrets WHERE name = ?`, secretTeam).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, err
	}
	plain, err := s.keys.unsealWith(sealed, []byte(secretTeam))
	if err != nil || json.Unmarshal(plain, &m) != nil {
		// Not fatal: the hub is asked again and the value replaced.
		return TeamMembership{}, false, nil
	}
	return m, true, nil
}

// SaveTeamMembership stores m sealed, replacing any earlier one.
func (s *Station) SaveTeamMembership(ctx context.Context, m TeamMembership) error {
	plain, _ := json.Marshal(m)
	sealed, err := s.keys.sealWith(plain, []byte(secretTeam))
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO secrets (name, sealed) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed`, secretTeam, sealed)
		return err
	})
}

// ForgetTeam deletes the stored membership (the hub says the station is in
// no team any more).
func (s *Station) ForgetTeam(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM secrets WHERE name = ?`, secretTeam)
		return err
	})
}
