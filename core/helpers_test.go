package core_test

import (
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// leaving is one way a prepared session stops being prepared, for tests
// that check what a session forgets when it does.
type leaving struct {
	name  string
	leave func(t *testing.T, st *core.Station, clock *coretest.Clock, prep core.Prepared)
}

// waysToLeavePrepared returns the named ways out of prepared: paired,
// cancelled, timed out, and, through active, ended by the technician, ended
// by the user and expired.
func waysToLeavePrepared(names ...string) []leaving {
	pair := func(t *testing.T, st *core.Station, prep core.Prepared) core.Paired {
		t.Helper()
		paired, err := st.Pair(t.Context(), core.PairRequest{Token: prep.Session.Token, Code: prep.Code,
			RemoteAddr: "192.0.2.1:1", Facts: coretest.WindowsPC})
		if err != nil {
			t.Fatal(err)
		}
		return paired
	}
	all := map[string]func(t *testing.T, st *core.Station, clock *coretest.Clock, prep core.Prepared){
		"Paired": func(t *testing.T, st *core.Station, _ *coretest.Clock, prep core.Prepared) {
			pair(t, st, prep)
		},
		"Cancelled": func(t *testing.T, st *core.Station, _ *coretest.Clock, prep core.Prepared) {
			if err := st.Cancel(t.Context(), prep.Session.ID); err != nil {
				t.Fatal(err)
			}
		},
		"TimedOut": func(t *testing.T, st *core.Station, clock *coretest.Clock, prep core.Prepared) {
			clock.Advance(prep.Session.InviteExpiresAt.Sub(clock.Now()) + time.Second)
			if err := st.Tick(t.Context()); err != nil {
				t.Fatal(err)
			}
		},
		"Ended": func(t *testing.T, st *core.Station, _ *coretest.Clock, prep core.Prepared) {
			pair(t, st, prep)
			if err := st.End(t.Context(), prep.Session.ID); err != nil {
				t.Fatal(err)
			}
		},
		"EndedByUser": func(t *testing.T, st *core.Station, _ *coretest.Clock, prep core.Prepared) {
			if err := st.EndByUser(t.Context(), pair(t, st, prep).AgentKey); err != nil {
				t.Fatal(err)
			}
		},
		"Expired": func(t *testing.T, st *core.Station, clock *coretest.Clock, prep core.Prepared) {
			pair(t, st, prep)
			clock.Advance(core.SessionLength + time.Second)
			if err := st.Tick(t.Context()); err != nil {
				t.Fatal(err)
			}
		},
	}
	ways := make([]leaving, 0, len(names))
	for _, n := range names {
		f, ok := all[n]
		if !ok {
			panic("no way to leave prepared called " + n)
		}
		ways = append(ways, leaving{n, f})
	}
	return ways
}
