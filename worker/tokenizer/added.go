package tokenizer

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// addedToken is an entry of tokenizer.json added_tokens.
type addedToken struct {
	id         int
	content    string
	pattern    string // content as matched: normalized for normalized tokens
	singleWord bool
	lstrip     bool
	rstrip     bool
	normalized bool
	special    bool
}

// addedMatcher finds added tokens in text, leftmost first and, at one
// position, longest first (the Hugging Face LeftmostLongest rule). Token
// sets are small, so candidates are bucketed by first byte.
type addedMatcher struct {
	byFirst [256][]*addedToken
}

func newAddedMatcher(toks []*addedToken) *addedMatcher {
	if len(toks) == 0 {
		return nil
	}
	m := &addedMatcher{}
	for _, t := range toks {
		if t.pattern == "" {
			continue
		}
		m.byFirst[t.pattern[0]] = append(m.byFirst[t.pattern[0]], t)
	}
	for i := range m.byFirst {
		sort.SliceStable(m.byFirst[i], func(a, b int) bool {
			return len(m.byFirst[i][a].pattern) > len(m.byFirst[i][b].pattern)
		})
	}
	return m
}

// segment is a piece of text: plain text or one added token.
type segment struct {
	text  string
	start int // byte offset in the text that was split
	tok   *addedToken
}

// split cuts s into plain and added-token segments, applying single_word,
// lstrip (absorb whitespace on the left) and rstrip (on the right).
func (m *addedMatcher) split(s string, out []segment) []segment {
	if m == nil {
		if s != "" {
			out = append(out, segment{text: s})
		}
		return out
	}
	last := 0
	for i := 0; i < len(s); {
		tok := m.longestAt(s, i)
		if tok == nil {
			i++
			continue
		}
		start, stop := i, i+len(tok.pattern)
		i = stop
		if tok.singleWord && (endsWithWord(s[:start]) || startsWithWord(s[stop:])) {
			continue
		}
		if tok.lstrip {
			start = max(len(strings.TrimRightFunc(s[:start], unicode.IsSpace)), last)
		}
		if tok.rstrip {
			stop = len(s) - len(strings.TrimLeftFunc(s[stop:], unicode.IsSpace))
			i = stop
		}
		if start > last {
			out = append(out, segment{text: s[last:start], start: last})
		}
		out = append(out, segment{text: s[start:stop], start: start, tok: tok})
		last = stop
	}
	if last < len(s) {
		out = append(out, segment{text: s[last:], start: last})
	}
	return out
}

func (m *addedMatcher) longestAt(s string, i int) *addedToken {
	for _, t := range m.byFirst[s[i]] {
		if strings.HasPrefix(s[i:], t.pattern) {
			return t
		}
	}
	return nil
}

func isWordChar(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func endsWithWord(s string) bool {
	r, n := utf8.DecodeLastRuneInString(s)
	return n > 0 && isWordChar(r)
}

func startsWithWord(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n > 0 && isWordChar(r)
}
