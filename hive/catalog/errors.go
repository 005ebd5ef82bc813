package catalog

import "github.com/rbee-go/rbee/internal/errcode"

// Code names a catalog failure so callers (CLIs, the keeper, tests) branch on
// it instead of on message text.
type Code string

// Failure codes of the catalog.
const (
	CodeInvalidID      Code = "INVALID_ID"
	CodeInvalidBackend Code = "INVALID_BACKEND"
	CodeInvalidRepo    Code = "INVALID_REPO"
	CodeInvalidModel   Code = "INVALID_MODEL"
	CodeModelExists    Code = "MODEL_EXISTS"
	CodeModelNotFound  Code = "MODEL_NOT_FOUND"
	CodeCorrupt        Code = "CATALOG_CORRUPT"
	CodeNotWritable    Code = "CATALOG_NOT_WRITABLE"
	CodeLocked         Code = "CATALOG_LOCKED"
)

// Error is a catalog failure with its code, a one-line message and an
// optional hint for the operator; errors.Is(err, catalog.ErrModelNotFound)
// and friends match on the code.
type Error = errcode.Error[Code]

// Sentinels for errors.Is; they carry only a code.
var (
	ErrInvalidID      = &Error{Code: CodeInvalidID}
	ErrInvalidBackend = &Error{Code: CodeInvalidBackend}
	ErrInvalidRepo    = &Error{Code: CodeInvalidRepo}
	ErrInvalidModel   = &Error{Code: CodeInvalidModel}
	ErrModelExists    = &Error{Code: CodeModelExists}
	ErrModelNotFound  = &Error{Code: CodeModelNotFound}
	ErrCorrupt        = &Error{Code: CodeCorrupt}
	ErrNotWritable    = &Error{Code: CodeNotWritable}
	ErrLocked         = &Error{Code: CodeLocked}
)

// CodeOf returns the code of the first *Error in err's chain, or "".
func CodeOf(err error) Code { return errcode.Of[Code](err) }
