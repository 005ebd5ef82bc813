// Package sshtransport runs commands on a pool over SSH with
// golang.org/x/crypto/ssh: it resolves a destination through ~/.ssh/config
// (HostName, User, Port, IdentityFile, ServerAlive*, HashKnownHosts),
// authenticates with the agent and key files, checks host keys against
// known_hosts (unknown refused unless accepted, changed always refused),
// quotes every argument for the remote POSIX shell, streams remote output
// live and reports the remote exit status (255 when SSH itself failed).
//
// One Client is one connection; run any number of commands on it. The
// remote login shell must be POSIX-like (sh, bash, dash, zsh): arguments are
// single-quoted for it, as ssh(1) users quote by hand.
//
// Cancelling a command (Ctrl-C) sends a "signal" request — which sshd honours
// only for privilege-separated, i.e. non-root, sessions — and, on a PTY,
// types ^C into the remote terminal; after a grace period the session is
// closed (a command without a terminal then stops at its next write, as
// with ssh(1)). Keepalives (ServerAliveInterval, default 15s × 3) turn a
// pool that vanished mid-command into ErrLost instead of a hang.
//
// Failures carry a Code (errors.Is against ErrTimeout, ErrAuth,
// ErrHostKeyUnknown, ErrHostKeyChanged, …) and say what failed and where,
// with a hint (ErrorHint) where one helps.
package sshtransport
