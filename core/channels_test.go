package core_test

import (
	"errors"
	"testing"
	"time"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// TestChannels: a live channel keeps the PC online past the heartbeat's
// 90 s of silence; the last of two overlapping channels to close takes it
// offline; a session whose 24 hours are over is refused as expired even
// before the deadline engine ran; an unknown key is refused.
func TestChannels(t *testing.T) {
	ctx := t.Context()
	st, clock := coretest.Open(t)
	sub := st.Subscribe()
	defer sub.Close()
	_, prep := coretest.MustPrepare(t, st, "Tom", "tom@example.com")
	id := prep.Session.ID
	paired, err := st.Pair(ctx, core.PairRequest{Token: prep.Session.Token, Code: prep.Code, RemoteAddr: "192.0.2.1:1", Facts: coretest.WindowsPC})
	if err != nil {
		t.Fatal(err)
	}
	_, first, err := st.OpenChannel(ctx, paired.AgentKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Minute)
	if err := st.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := st.Session(ctx, id); !s.Computer.Online || !st.ChannelUp(id) {
		t.Fatalf("with a live channel after 5 silent minutes: online %v, up %v; want online", s.Computer.Online, st.ChannelUp(id))
	}
	_, second, err := st.OpenChannel(ctx, paired.AgentKey, nil) // a reconnect before the old one timed out
	if err != nil {
		t.Fatal(err)
	}
	first()
	first() // a second call is harmless
	if s, _ := st.Session(ctx, id); !s.Computer.Online || !st.ChannelUp(id) {
		t.Fatal("the PC went offline while its newer channel is up")
	}
	second()
	coretest.WaitEvent(t, sub, core.EventComputerOffline, id)
	if s, _ := st.Session(ctx, id); s.Computer.Online || st.ChannelUp(id) {
		t.Fatal("the PC is online after its last channel closed")
	}
	_, again, err := st.OpenChannel(ctx, paired.AgentKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	coretest.WaitEvent(t, sub, core.EventComputerOnline, id)
	again()

	clock.Advance(24 * time.Hour)
	s, release, err := st.OpenChannel(ctx, paired.AgentKey, nil)
	if !errors.Is(err, core.ErrSessionClosed) || release != nil || s.State != core.StateExpired {
		t.Fatalf("expired, before the tick: %s, %v; want ErrSessionClosed with state expired", s.State, err)
	}
	if _, _, err := st.OpenChannel(ctx, "forged", nil); !errors.Is(err, core.ErrUnknownToken) {
		t.Fatalf("forged key: %v", err)
	}
}
