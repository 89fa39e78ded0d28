package wire

// STAND-IN (h3b): H2 defines CodeNotOwner in core/wire/team.go
// (/work/notes/takeover.md); the lead deletes this file when merging.

// CodeNotOwner: a station serving a PC only for a teammate's takeover
// answers the app's other calls with 503 and this code ("try again later").
const CodeNotOwner = "not_owner"
