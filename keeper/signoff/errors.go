package signoff

import "errors"

// ErrUsage marks a mistake on the command line (exit 2).
var ErrUsage = errors.New("usage")
