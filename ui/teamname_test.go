package ui

import (
	"testing"

	"adhocstation/core/pairing"
)

// TestTeamSessionLineNames: a line of another station's session names the
// station as it told the team and the PC once paired; a station that never
// said its name is named by its hub id.
func TestTeamSessionLineNames(t *testing.T) {
	s := pairing.TeamSession{Station: "k3x9", StationName: "Desk A", PreparedBy: "Anna Tech", State: "connected",
		Computer: "ANNA-PC", PCOnline: true, StationOnline: true}
	if got, want := teamSessionLine(s), "From another station — prepared by Anna Tech at station Desk A (online): connected, PC ANNA-PC online."; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	s.StationName, s.Computer, s.PCOnline, s.StationOnline = "", "", false, false
	if got, want := teamSessionLine(s), "From another station — prepared by Anna Tech at station k3x9 (offline): connected, PC offline."; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}
