package sshtransport

import "strings"

// Quote returns arg quoted for a POSIX shell so that the shell yields arg
// unchanged as one word: single quotes keep everything literal, and a single
// quote inside is closed, escaped and reopened ('\”).
func Quote(arg string) string {
	if arg != "" && isSafe(arg) {
		return arg
	}
	return "'" + strings.ReplaceAll(arg, "'", `'\''`) + "'"
}

// Join quotes every argument and joins them with spaces: the remote command
// line for an argv.
func Join(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

// QuotePath quotes a path like Quote but keeps a leading "~/" (or a bare
// "~") meaning the remote user's home, as an operator writing a pools file
// expects.
func QuotePath(p string) string {
	switch {
	case p == "~":
		return `"$HOME"`
	case strings.HasPrefix(p, "~/"):
		return `"$HOME"/` + Quote(p[2:])
	}
	return Quote(p)
}

// isSafe reports whether s needs no quoting: only characters no POSIX shell
// treats specially (kept unquoted so remote command lines stay readable in
// logs).
func isSafe(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-_./,:+@%", r):
		default:
			return false
		}
	}
	return true
}
