package hfhub

import (
	"errors"
	"fmt"
)

// Code classifies download failures so callers (and the CLI's exit message)
// can branch on them.
type Code string

const (
	CodeNotFound         Code = "HUB_NOT_FOUND"         // repo, revision or file missing on the hub
	CodeAccessDenied     Code = "HUB_ACCESS_DENIED"     // 401/403
	CodeInsufficientDisk Code = "INSUFFICIENT_DISK"     // refused before starting
	CodeNoFiles          Code = "NO_MATCHING_FILES"     // include patterns matched nothing
	CodeUnavailable      Code = "HUB_UNAVAILABLE"       // retries exhausted (5xx, resets, stalls, checksums)
	CodeBadResponse      Code = "HUB_BAD_RESPONSE"      // an answer the client cannot use
	CodeWriteFailed      Code = "DOWNLOAD_WRITE_FAILED" // the model folder cannot be written
	CodeBusy             Code = "DOWNLOAD_IN_PROGRESS"  // another download holds the folder
)

// Error is a download failure with a code, the repo (and file) it concerns and
// an operator hint.
type Error struct {
	Code Code
	Repo string
	File string
	Msg  string
	Hint string
	Err  error // cause, if any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorHint is the operator hint; the CLIs print it on the line after the error.
func (e *Error) ErrorHint() string { return e.Hint }

// Is matches sentinel errors by code: errors.Is(err, hfhub.ErrNotFound).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Msg == "" && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrNotFound         = &Error{Code: CodeNotFound}
	ErrAccessDenied     = &Error{Code: CodeAccessDenied}
	ErrInsufficientDisk = &Error{Code: CodeInsufficientDisk}
	ErrNoFiles          = &Error{Code: CodeNoFiles}
	ErrUnavailable      = &Error{Code: CodeUnavailable}
	ErrBusy             = &Error{Code: CodeBusy}
)

// Transient causes; they are retried.
var (
	ErrStalled          = errors.New("stalled")
	ErrChecksumMismatch = errors.New("checksum mismatch")
	ErrSizeMismatch     = errors.New("size mismatch")
)

// statusError is a non-2xx answer that is worth retrying (5xx, 429, 416).
type statusError struct {
	Status int
	Msg    string
}

func (e *statusError) Error() string {
	if e.Msg != "" {
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Msg)
	}
	return fmt.Sprintf("HTTP %d", e.Status)
}

// permanent reports whether retrying cannot help.
func permanent(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
