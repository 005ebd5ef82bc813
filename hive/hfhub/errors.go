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
	CodeGated            Code = "HUB_GATED_REPO"        // gated repo, terms not accepted by the token's account
	CodeRateLimited      Code = "HUB_RATE_LIMITED"      // 429 for longer than the wait budget
	CodeCDN              Code = "HUB_CDN_REFUSED"       // the CDN a file was redirected to refused it
	CodeInsufficientDisk Code = "INSUFFICIENT_DISK"     // refused before starting
	CodeNoFiles          Code = "NO_MATCHING_FILES"     // include patterns matched nothing
	CodeUnavailable      Code = "HUB_UNAVAILABLE"       // retries exhausted (5xx, resets, stalls, checksums)
	CodeBadResponse      Code = "HUB_BAD_RESPONSE"      // an answer the client cannot use
	CodeBadEndpoint      Code = "HUB_BAD_ENDPOINT"      // HF_ENDPOINT is not an http(s) URL
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
	ErrGated            = &Error{Code: CodeGated}
	ErrRateLimited      = &Error{Code: CodeRateLimited}
	ErrCDN              = &Error{Code: CodeCDN}
	ErrInsufficientDisk = &Error{Code: CodeInsufficientDisk}
	ErrNoFiles          = &Error{Code: CodeNoFiles}
	ErrBadEndpoint      = &Error{Code: CodeBadEndpoint}
	ErrUnavailable      = &Error{Code: CodeUnavailable}
	ErrBusy             = &Error{Code: CodeBusy}
)

// Transient causes; they are retried.
var (
	ErrStalled          = errors.New("stalled")
	ErrChecksumMismatch = errors.New("checksum mismatch")
	ErrSizeMismatch     = errors.New("size mismatch")
)

// statusError is a non-2xx answer that is worth retrying (5xx, 416).
type statusError struct {
	Status int
	Msg    string
	Host   string // set when the answer came from the CDN, not the hub
}

func (e *statusError) Error() string {
	s := fmt.Sprintf("HTTP %d", e.Status)
	if e.Host != "" {
		s += " from the CDN " + e.Host
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// permanent reports whether retrying cannot help.
func permanent(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
