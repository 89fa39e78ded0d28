package pairing

import (
	"testing"
	"time"

	"adhocstation/agent/support"
	"adhocstation/core"
	"adhocstation/core/coretest"
)

// TestSessionEndClosesItsChannels: when a session ends or expires the
// station closes its live channels at once, so the PC reconnects and is
// told to clean up. The test awaits an order of events, not a timeout: a
// settings change published after the end is handled by the same loop
// after it, so once OnReload reports that change the channel is closed,
// and a ping the PC sends then goes unanswered. A station that keeps the
// channel answers it, and the test fails at once.
func TestSessionEndClosesItsChannels(t *testing.T) {
	ctx := t.Context()
	st, clock := coretest.Open(t)
	reloaded := make(chan error, 4)
	e := startEnv(t, st, clock, Options{OnReload: func(err error) { reloaded <- err }})
	c, err := support.NewClient(e.srv.URL(), e.srv.Pins())
	if err != nil {
		t.Fatal(err)
	}
	seats := 10
	for _, tc := range []struct {
		name, tech string
		end        func(id int64) error
	}{
		{"ended by the technician", "Ana", func(id int64) error { return st.End(ctx, id) }},
		{"expired", "Ben", func(int64) error { clock.Advance(24*time.Hour + time.Minute); return st.Tick(ctx) }},
	} {
		_, prep := coretest.MustPrepare(t, st, tc.tech, tc.tech+"@example.com")
		paired, err := st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "127.0.0.1:1", Facts: coretest.WindowsPC})
		if err != nil {
			t.Fatal(err)
		}
		// The ping's wait is the PC's timeout: long, so only an answer or
		// the close ends it.
		ys, _, err := c.OpenChannel(ctx, paired.AgentKey, support.ChannelTiming{Timeout: coretest.WaitLimit})
		if err != nil || ys == nil {
			t.Fatalf("%s: channel: %v, %v", tc.name, ys, err)
		}
		if _, err := ys.Ping(); err != nil {
			t.Fatalf("%s: the open channel does not answer a ping: %v", tc.name, err)
		}
		if err := tc.end(prep.Session.ID); err != nil {
			t.Fatal(err)
		}
		set, err := st.Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seats++
		set.Seats = seats
		if err := st.SaveSettings(ctx, set); err != nil {
			t.Fatal(err)
		}
		coretest.Receive(t, reloaded, "the pairing service's look at the settings saved after the end")
		if _, err := ys.Ping(); err == nil {
			t.Fatalf("%s: the station still answers on the channel after the session's end event: it must close it", tc.name)
		}
		ys.Close()
	}
}
