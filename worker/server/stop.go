package server

import "strings"

// stopMatcher finds stop strings in streamed text. It holds back the longest
// tail of the text that could still become a stop string, so a stop string
// spanning several tokens is never partly emitted.
type stopMatcher struct {
	stops   []string
	pending string
}

func newStopMatcher(stops []string) *stopMatcher { return &stopMatcher{stops: stops} }

// Push adds text and returns what is safe to emit. If a stop string is
// complete, matched is it and out is the text before it; the matcher is
// then done.
func (m *stopMatcher) Push(text string) (out, matched string) {
	m.pending += text
	if len(m.stops) == 0 {
		out, m.pending = m.pending, ""
		return out, ""
	}
	// The stop string that completes first wins (on a tie, the longer one),
	// as a token-by-token check would see it; so the result does not depend
	// on how the text was split into pushes.
	first, firstEnd := -1, 0
	for _, s := range m.stops {
		i := strings.Index(m.pending, s)
		if i < 0 {
			continue
		}
		if end := i + len(s); first < 0 || end < firstEnd || (end == firstEnd && len(s) > len(matched)) {
			first, firstEnd, matched = i, end, s
		}
	}
	if first >= 0 {
		out, m.pending = m.pending[:first], ""
		return out, matched
	}
	hold := 0
	for _, s := range m.stops {
		hold = max(hold, overlap(m.pending, s))
	}
	cut := len(m.pending) - hold
	out, m.pending = m.pending[:cut], m.pending[cut:]
	return out, ""
}

// Flush returns the held-back text at the end of a generation.
func (m *stopMatcher) Flush() string {
	out := m.pending
	m.pending = ""
	return out
}

// overlap is the length of the longest proper prefix of stop that text ends with.
func overlap(text, stop string) int {
	for n := min(len(text), len(stop)-1); n > 0; n-- {
		if strings.HasSuffix(text, stop[:n]) {
			return n
		}
	}
	return 0
}
