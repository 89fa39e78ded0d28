package core_test

import (
	"testing"

	"adhocstation/core"
	"adhocstation/core/coretest"
)

// The list cache must follow writes made by another process on the same
// file (the command-line face ends sessions while the window is open).
func TestSessionsListFollowsOtherWriters(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	clock := coretest.NewClock(coretest.Start)
	window := coretest.OpenWith(t, dir, clock, nil)
	cli := coretest.OpenWith(t, dir, clock, nil)

	_, prep := coretest.MustPrepare(t, cli, "Ana", "ana@example.com")
	list, err := window.Sessions(ctx, core.SessionFilter{})
	if err != nil || len(list) != 1 || list[0].State != core.StatePrepared {
		t.Fatalf("window sees %+v, %v; want one prepared session", list, err)
	}
	if err := cli.Cancel(ctx, prep.Session.ID); err != nil {
		t.Fatal(err)
	}
	open, err := window.Sessions(ctx, core.SessionFilter{OpenOnly: true})
	if err != nil || len(open) != 0 {
		t.Fatalf("open sessions after cancel: %+v, %v", open, err)
	}
	all, _ := window.Sessions(ctx, core.SessionFilter{})
	if len(all) != 1 || all[0].State != core.StateCancelled {
		t.Fatalf("all sessions after cancel: %+v", all)
	}
}
