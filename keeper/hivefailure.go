package keeper

import (
	"fmt"
	"strings"
	"syscall"
)

// hiveFailure is the HIVE_FAILED error of a hive command that exited with
// code: its "error: " line (progress lines may come first on stderr) and the
// hint after it, the whole stderr as the cause (HiveStderr). A hive that printed no error line (killed, crashed) is
// reported by its exit status and its last output.
func hiveFailure(host string, code int, stderr string) *Error {
	text := strings.TrimSpace(stderr)
	lines := strings.Split(text, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		msg, ok := strings.CutPrefix(lines[i], "error: ")
		if !ok {
			continue
		}
		e := &Error{Code: CodeHiveFailed, Host: host, Msg: fmt.Sprintf("%s: %s", host, msg), Err: &HiveStderr{Text: text}}
		if i+1 < len(lines) {
			if h, ok := strings.CutPrefix(lines[i+1], "hint: "); ok {
				e.Hint = h
			}
		}
		return e
	}
	e := &Error{Code: CodeHiveFailed, Host: host, Msg: fmt.Sprintf("%s: rbee-hive exited with status %d", host, code), Err: &HiveStderr{Text: text}}
	if code > 128 && code < 128+32 { // the shell's (and sshd's) way of saying a signal ended it
		e.Msg += fmt.Sprintf(" (killed by signal %d: %s)", code-128, syscall.Signal(code-128))
	}
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		e.Msg += fmt.Sprintf(" without saying why (last output: %q)", last)
	}
	return e
}
