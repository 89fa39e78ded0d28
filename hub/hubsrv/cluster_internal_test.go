package hubsrv

import (
	"testing"
	"time"
)

// TestMergeStation: every node merges two records of a station the same
// way whatever the order (else two nodes would write each other's version
// back forever): NATS keys united and sorted, the earliest revocation,
// and a merge with itself changes nothing.
func TestMergeStation(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	base := station{Name: "desk", PublicKey: []byte{1, 2}, SecretHash: "ab", Enrolled: t0, Team: "acme"}
	a, b, c := base, base, base
	a.TeamKeys = []string{"UB", "UA"}
	b.TeamKeys = []string{"UC", "UA"}
	b.Revoked = t0.Add(2 * time.Hour)
	c.Revoked = t0.Add(time.Hour)
	for _, p := range [][2]*station{{&a, &b}, {&b, &c}, {&a, &c}} {
		x, y := mergeStation(p[0], p[1]), mergeStation(p[1], p[0])
		if !sameStation(x, y) {
			t.Errorf("merge(%+v, %+v) = %+v but the other way %+v", p[0], p[1], x, y)
		}
		if !sameStation(mergeStation(x, x), x) {
			t.Errorf("merging %+v with itself changed it", x)
		}
	}
	m := mergeStation(mergeStation(&a, &b), &c)
	if got := m.TeamKeys; len(got) != 3 || got[0] != "UA" || got[1] != "UB" || got[2] != "UC" {
		t.Errorf("keys %v, want UA UB UC", got)
	}
	if !m.Revoked.Equal(t0.Add(time.Hour)) {
		t.Errorf("revoked %v, want the earliest, %v", m.Revoked, t0.Add(time.Hour))
	}
	if !a.Revoked.IsZero() || len(a.TeamKeys) != 2 || a.TeamKeys[0] != "UB" {
		t.Errorf("the merge changed its input: %+v", a)
	}
	// A record known only elsewhere is taken whole.
	if got := mergeStation(nil, &b); !sameStation(got, mergeStation(&b, &b)) || got == &b {
		t.Errorf("merge(nil, b) = %+v", got)
	}
}
