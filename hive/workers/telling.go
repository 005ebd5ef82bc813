package workers

import (
	"regexp"
	"strings"
)

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// StripANSI removes terminal colour and cursor codes (a worker's logger
// may colour its lines even into a file).
func StripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }

// errorMarkers, most telling first: an anyhow/clap "Error: …" line, a
// panic, a logged error.
var errorMarkers = []*regexp.Regexp{
	regexp.MustCompile(`^(?:Error|error):\s*(.+)$`),
	regexp.MustCompile(`panicked at \S+:\d+:\d+:\s*(.+)$`),
	regexp.MustCompile(`(?i)\blevel=error\b.*?\bmsg="?([^"]+)`),
	regexp.MustCompile(`"level":"ERROR".*?"message":"((?:[^"\\]|\\.)*)"`), // tracing's JSON
	regexp.MustCompile(`\b(?:ERROR|FATAL)\b[\s:]*(?:[\w:.-]+:\s+)?(.+)$`),
}

// TellingLine is the line of a worker's log tail that says best why it
// failed (ANSI stripped): the last "Error: …" line, else the last panic or
// logged error, else the last non-empty line.
func TellingLine(tail []string) string {
	for _, re := range errorMarkers {
		for i := len(tail) - 1; i >= 0; i-- {
			if m := re.FindStringSubmatch(strings.TrimSpace(StripANSI(tail[i]))); m != nil {
				return strings.TrimSpace(m[1])
			}
		}
	}
	for i := len(tail) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(StripANSI(tail[i])); l != "" {
			return l
		}
	}
	return ""
}
