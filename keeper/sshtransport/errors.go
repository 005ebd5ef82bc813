package sshtransport

import (
	"fmt"

	"github.com/rbee-go/rbee/internal/errcode"
)

// Code classifies a transport failure so callers can branch with errors.Is.
type Code string

// Failure codes. Every *Error matches errors.Is(err, <its code's sentinel>).
const (
	CodeTimeout        Code = "SSH_TIMEOUT"         // TCP connect + handshake exceeded --connect-timeout
	CodeConnect        Code = "SSH_CONNECT"         // connection refused, no route, DNS
	CodeAuth           Code = "SSH_AUTH"            // no offered method was accepted
	CodeHostKeyUnknown Code = "SSH_HOSTKEY_UNKNOWN" // host not in known_hosts, not accepted
	CodeHostKeyChanged Code = "SSH_HOSTKEY_CHANGED" // host key differs from known_hosts
	CodeHostKeyRevoked Code = "SSH_HOSTKEY_REVOKED" // key marked @revoked
	CodeConfig         Code = "SSH_CONFIG"          // bad destination, ssh config or known_hosts file
	CodeLost           Code = "SSH_CONNECTION_LOST" // the connection died mid-command (keepalive)
	CodeSession        Code = "SSH_SESSION"         // session could not start or ended without status
	CodeHiveNotFound   Code = "HIVE_NOT_FOUND"      // remote command exited 127
	CodeTunnel         Code = "SSH_TUNNEL"          // the pool could not connect to a forwarded address
)

// Sentinels for errors.Is.
var (
	ErrTimeout        = &Error{Code: CodeTimeout}
	ErrConnect        = &Error{Code: CodeConnect}
	ErrAuth           = &Error{Code: CodeAuth}
	ErrHostKeyUnknown = &Error{Code: CodeHostKeyUnknown}
	ErrHostKeyChanged = &Error{Code: CodeHostKeyChanged}
	ErrHostKeyRevoked = &Error{Code: CodeHostKeyRevoked}
	ErrConfig         = &Error{Code: CodeConfig}
	ErrLost           = &Error{Code: CodeLost}
	ErrSession        = &Error{Code: CodeSession}
	ErrHiveNotFound   = &Error{Code: CodeHiveNotFound}
	ErrTunnel         = &Error{Code: CodeTunnel}
)

// Error is a transport failure: what (Code, Msg), where (Host, the
// destination as the operator named it), and what to do about it (Hint, may
// be empty). It matches errors.Is(err, <its code's sentinel>).
type Error = errcode.Error[Code]

func newError(code Code, host, hint string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Host: host, Msg: fmt.Sprintf(format, args...), Hint: hint, Err: cause}
}

// Hint returns the hint of the first *Error in err's chain, or "".
func Hint(err error) string { return errcode.HintOf[Code](err) }
