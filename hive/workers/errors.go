package workers

import (
	"errors"
	"fmt"
	"strings"
)

// Code names why a worker operation was refused; callers (the CLI, the
// matrix) branch on it and operators grep for it.
type Code string

// The codes of DESIGN §3 "Worker spawn", plus the two that stop/logs and a
// bad argument template need.
const (
	CodeModelNotFound        Code = "MODEL_NOT_FOUND"
	CodeModelNotDownloaded   Code = "MODEL_NOT_DOWNLOADED"
	CodeBackendUnsupported   Code = "BACKEND_UNSUPPORTED"
	CodeBackendUnavailable   Code = "BACKEND_UNAVAILABLE"
	CodeInsufficientRAM      Code = "INSUFFICIENT_RAM"
	CodeInsufficientVRAM     Code = "INSUFFICIENT_VRAM"
	CodeWorkerBinaryNotFound Code = "WORKER_BINARY_NOT_FOUND"
	CodeWorkerStartupFailed  Code = "WORKER_STARTUP_FAILED"
	CodeWorkerNotFound       Code = "WORKER_NOT_FOUND"
	CodeWorkerArgsInvalid    Code = "WORKER_ARGS_INVALID"
	CodeInvalidRequest       Code = "INVALID_REQUEST"
)

// Error is a refused or failed worker operation.
type Error struct {
	Code    Code
	Message string
	Hint    string   // what the operator can do about it; may be empty
	LogTail []string // last lines of the worker's log (startup failures)
	LogPath string   // where the full log is
	Err     error    // underlying cause, if any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorHint is the operator hint; the CLIs print it on the line after the error.
func (e *Error) ErrorHint() string { return e.Hint }

// Detail renders the log tail as the lines the CLI prints under the
// `error: …` and hint lines.
func (e *Error) Detail() string {
	var b strings.Builder
	if e.LogPath != "" && len(e.LogTail) == 0 {
		fmt.Fprintf(&b, "the worker wrote nothing to its log (%s)\n", e.LogPath)
	}
	if len(e.LogTail) > 0 {
		fmt.Fprintf(&b, "last %d log lines (%s):\n", len(e.LogTail), e.LogPath)
		for _, l := range e.LogTail {
			fmt.Fprintf(&b, "  | %s\n", l)
		}
	}
	return b.String()
}

// CodeOf returns the code of the first *Error in err's chain, or "".
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func newError(code Code, hint, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Hint: hint}
}
