package wire

// Defined here by H3a only so that core/pairing builds on its own branch:
// H2 owns these names in core/wire/team.go; the lead deletes this file at
// the merge when that one exists (same names, same values).

// TeamPinsHeader lists, on the live channel's 101 answer, the pins of the
// owning station's teammates (comma-separated).
const TeamPinsHeader = "Adhoc-Team-Pins"

// MaxTeamPins bounds the pins in TeamPinsHeader.
const MaxTeamPins = 16

// CodeNotOwner: a station serving a PC only for a teammate's takeover.
const CodeNotOwner = "not_owner"
