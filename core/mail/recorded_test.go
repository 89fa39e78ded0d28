package mail

import (
	"strings"
	"testing"
	"time"
)

// The invitation says in plain words that sessions are recorded, in both
// parts, only when the station records them.
func TestInvitationSaysSessionsAreRecorded(t *testing.T) {
	inv := Invitation{TechnicianName: "Tom", TechnicianEmail: "tom@example.com", Link: "https://x/join/t",
		ValidFor: time.Hour, ValidUntil: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC), SessionLength: 24 * time.Hour}
	for _, on := range []bool{true, false} {
		inv.Recorded = on
		r, err := RenderInvitation(inv)
		if err != nil {
			t.Fatal(err)
		}
		for part, text := range map[string]string{"text": r.Text, "HTML": r.HTML} {
			if got := strings.Contains(text, "Sessions are recorded"); got != on {
				t.Errorf("recording %v: the %s part says sessions are recorded: %v", on, part, got)
			}
		}
	}
}
