// Package agenttest is the test rig the Support Session app's tests share
// with the station's (ui): a real station on a temporary database, a PC
// paired with it and its live channel, a recording UI, the tray's screen
// viewer, the pipe's caller on Unix sockets. It is test support: it may
// import the station's packages, and no package of the app's binary may
// import it (TestAgentImports says so).
package agenttest
