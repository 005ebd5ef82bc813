// Package sshtransport runs commands on a pool over SSH with
// golang.org/x/crypto/ssh: it resolves a destination through ~/.ssh/config,
// authenticates with the agent and key files, checks host keys against
// known_hosts, quotes every argument for the remote POSIX shell, streams
// remote output live and reports the remote exit status.
//
// Failures carry a Code (errors.Is against ErrTimeout, ErrAuth, …) so
// callers can branch, and say what failed and where.
package sshtransport
