package server

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStopMatcher(t *testing.T) {
	tests := []struct {
		name    string
		stops   []string
		pushes  []string
		outs    []string // out per push
		matched string   // of the last push
		flush   string
	}{
		{"no stops passes through", nil, []string{"a", "b\n"}, []string{"a", "b\n"}, "", ""},
		{"match inside one push", []string{"\n\n"}, []string{"ab\n\ncd"}, []string{"ab"}, "\n\n", ""},
		{"match spanning pushes", []string{"\n\n"}, []string{"ab\n", "\ncd"}, []string{"ab", ""}, "\n\n", ""},
		{"prefix held then released", []string{"\n\n"}, []string{"ab\n", "c"}, []string{"ab", "\nc"}, "", ""},
		{"prefix held to the end", []string{"END"}, []string{"xE", "N"}, []string{"x", ""}, "", "EN"},
		{"longest possible prefix held", []string{"abab"}, []string{"aba"}, []string{""}, "", "aba"},
		{"first to complete wins", []string{"cd", "b"}, []string{"abcd"}, []string{"a"}, "b", ""},
		{"first to complete beats an earlier start", []string{"abcd", "bc"}, []string{"abcd"}, []string{"a"}, "bc", ""},
		{"tie on completion: the longer", []string{"c", "bc"}, []string{"abcd"}, []string{"a"}, "bc", ""},
		{"multibyte stop", []string{"é!"}, []string{"caf", "é", "!x"}, []string{"caf", "", ""}, "é!", ""},
		{"stop equal to the text", []string{"stop"}, []string{"st", "op"}, []string{"", ""}, "stop", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newStopMatcher(tt.stops)
			var matched string
			for i, p := range tt.pushes {
				var out string
				out, matched = m.Push(p)
				assert.Equal(t, tt.outs[i], out, "push %d", i)
			}
			assert.Equal(t, tt.matched, matched)
			assert.Equal(t, tt.flush, m.Flush())
		})
	}
}

// TestStopMatcherChunkingInvariant: however the text is split into pushes,
// the emitted text and the match equal a character-by-character check.
func TestStopMatcherChunkingInvariant(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	alphabet := []string{"a", "b", "\n", "é", "😀"}
	word := func(maxLen int) string {
		var b strings.Builder
		for range 1 + r.IntN(maxLen) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	feed := func(stops []string, text string, cuts []int) (string, string) {
		m := newStopMatcher(stops)
		var out strings.Builder
		prev := 0
		for _, c := range append(cuts, len(text)) {
			o, matched := m.Push(text[prev:c])
			out.WriteString(o)
			if matched != "" {
				return out.String(), matched
			}
			prev = c
		}
		return out.String() + m.Flush(), ""
	}
	for range 3000 {
		text := word(30)
		stops := []string{word(3)}
		if r.IntN(2) == 0 {
			stops = append(stops, word(4))
		}
		var perChar []int
		for i := range text {
			if i > 0 {
				perChar = append(perChar, i)
			}
		}
		var cuts []int
		for _, c := range perChar {
			if r.IntN(3) == 0 {
				cuts = append(cuts, c)
			}
		}
		wantOut, wantMatched := feed(stops, text, perChar)
		gotOut, gotMatched := feed(stops, text, cuts)
		require.Equal(t, wantMatched, gotMatched, "text %q stops %q cuts %v", text, stops, cuts)
		require.Equal(t, wantOut, gotOut, "text %q stops %q cuts %v", text, stops, cuts)
		if wantMatched == "" {
			require.Equal(t, text, wantOut)
		} else {
			require.True(t, strings.HasPrefix(text, wantOut+wantMatched))
		}
	}
}
