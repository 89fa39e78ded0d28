package wire

// Take over (docs/TEAM.md): a station of the owner's team may serve a PC's
// live channel for a moment; the PC must accept its certificate, and must
// learn that from its own station only.
const (
	// TeamPinsHeader is set on the live channel's 101 answer by the station
	// that paired the PC (the owner): the pins of the other stations of its
	// team (base64 std of SHA-256 over the certificate's
	// SubjectPublicKeyInfo, as Details.Pins), comma-separated. Absent or
	// empty: no team, and the PC forgets any team pins it had. The PC
	// ignores it on an answer from any station but the owner.
	TeamPinsHeader = "Adhoc-Team-Pins"
	// MaxTeamPins caps the pins the header may list.
	MaxTeamPins = 16
	// CodeNotOwner answers (HTTP 503) every agent call other than the live
	// channel on a station that only holds the PC for a teammate: the PC
	// tries again later, as when its station is offline; it never ends the
	// session on it.
	CodeNotOwner = "not_owner"
)
