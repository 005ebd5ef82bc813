// Package cli is the plumbing the rbee command lines share (DESIGN §3): the
// `error: …` and `hint: …` lines with their exit codes, when to color,
// JSON on stdout, the version line and help-text layout. The mains keep only
// their flags and their words.
package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/mattn/go-isatty"
)

// Exit codes of every rbee command.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// PrintError writes `error: <err>` and, when err or a cause in its chain has
// an operator hint (an ErrorHint() string method), `hint: <hint>`.
func PrintError(w io.Writer, err error) {
	fmt.Fprintf(w, "error: %s\n", err)
	var h interface{ ErrorHint() string }
	if errors.As(err, &h) && h.ErrorHint() != "" {
		fmt.Fprintf(w, "hint: %s\n", h.ErrorHint())
	}
}

// Fail prints err as PrintError does and returns ExitFailure.
func Fail(w io.Writer, err error) int {
	PrintError(w, err)
	return ExitFailure
}

// UsageError prints a command-line mistake and, if not empty, a hint;
// it returns ExitUsage.
func UsageError(w io.Writer, msg, hint string) int {
	fmt.Fprintf(w, "error: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(w, "hint: %s\n", hint)
	}
	return ExitUsage
}

// IsTerminal reports whether w is a terminal (an *os.File on a tty).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && isatty.IsTerminal(f.Fd())
}

// Color reports whether output to w may be colored: not turned off by
// --no-color or NO_COLOR, and w is a terminal.
func Color(w io.Writer, noColor bool, getenv func(string) string) bool {
	return !noColor && getenv("NO_COLOR") == "" && IsTerminal(w)
}

// WriteJSON writes v to w as indented JSON and a newline, in one write. It
// returns only the encoding error: like fmt.Println, a failed write to
// stdout is left to the stream.
func WriteJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\n", b)
	return nil
}

// PrintVersion writes `<name> <version> (<go version> <os>/<arch>)` and
// returns ExitOK.
func PrintVersion(w io.Writer, name, version string) int {
	fmt.Fprintf(w, "%s %s (%s %s/%s)\n", name, version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return ExitOK
}

// Indent indents each line of s (trimmed) by two spaces, as help examples are.
func Indent(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n")
}

// Split splits command words into the group, its sub-command and the rest.
func Split(args []string) (group, sub string, rest []string) {
	if len(args) > 0 {
		group = args[0]
	}
	if len(args) > 1 {
		sub, rest = args[1], args[2:]
	}
	return group, sub, rest
}
