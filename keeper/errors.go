package keeper

import "github.com/rbee-go/rbee/internal/errcode"

// Code names a keeper failure.
type Code string

// Failure codes of the keeper.
const (
	CodePoolsFile        Code = "POOLS_FILE"
	CodeBadHost          Code = "BAD_HOST"
	CodeSSHUnavailable   Code = "SSH_UNAVAILABLE"
	CodeHiveNotFound     Code = "HIVE_NOT_FOUND"
	CodeHiveFailed       Code = "HIVE_FAILED"
	CodeBadOutput        Code = "HIVE_BAD_OUTPUT"
	CodeTransportFailure Code = "TRANSPORT_FAILED"
)

// ExitTransport is the exit code when the transport itself failed (as ssh(1)).
const ExitTransport = 255

// ExitNotFound is the shell's exit code for a missing command.
const ExitNotFound = 127

// Error is a keeper failure with a code, the host it concerns and a hint;
// errors.Is(err, keeper.ErrSSHUnavailable) matches on the code.
type Error = errcode.Error[Code]

// Sentinels for errors.Is.
var (
	ErrPoolsFile      = &Error{Code: CodePoolsFile}
	ErrBadHost        = &Error{Code: CodeBadHost}
	ErrSSHUnavailable = &Error{Code: CodeSSHUnavailable}
	ErrHiveNotFound   = &Error{Code: CodeHiveNotFound}
	ErrHiveFailed     = &Error{Code: CodeHiveFailed}
	ErrBadOutput      = &Error{Code: CodeBadOutput}
)

// CodeOf returns the code of the first *Error in err's chain, or "".
func CodeOf(err error) Code { return errcode.Of[Code](err) }
