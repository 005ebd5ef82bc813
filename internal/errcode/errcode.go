// Package errcode is the coded error the hive and keeper packages share: a
// code callers branch on, one line for the operator, an optional hint, and
// the cause. Each package instantiates it with its own Code type
// (`type Error = errcode.Error[Code]`), so errors.As and CodeOf only match
// that package's errors.
package errcode

import "errors"

// Error is a failure with a code, the host it concerns (may be empty), a
// one-line message, an operator hint (may be empty) and the cause, if any.
type Error[C ~string] struct {
	Code C
	Host string
	Msg  string
	Hint string
	Err  error
}

func (e *Error[C]) Error() string {
	if e.Msg == "" {
		return string(e.Code) // a sentinel
	}
	return e.Msg
}

func (e *Error[C]) Unwrap() error { return e.Err }

// ErrorHint returns the operator hint; the CLIs print it on the line after
// the error.
func (e *Error[C]) ErrorHint() string { return e.Hint }

// Is matches on the code when target is a sentinel (a code only), so
// errors.Is(err, pkg.ErrX) works.
func (e *Error[C]) Is(target error) bool {
	t, ok := target.(*Error[C])
	return ok && t.Msg == "" && t.Host == "" && t.Code == e.Code
}

// Of returns the code of the first *Error[C] in err's chain, or "".
func Of[C ~string](err error) C {
	var e *Error[C]
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// HintOf returns the hint of the first *Error[C] in err's chain, or "".
func HintOf[C ~string](err error) string {
	var e *Error[C]
	if errors.As(err, &e) {
		return e.Hint
	}
	return ""
}
