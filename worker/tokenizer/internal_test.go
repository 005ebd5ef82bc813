package tokenizer

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Split behaviors as documented for Hugging Face SplitDelimiterBehavior
// ("the-final--countdown" with "-").
func TestSplitBehaviors(t *testing.T) {
	tests := []struct {
		behavior string
		invert   bool
		want     []string
	}{
		{"Removed", false, []string{"the", "final", "countdown"}},
		{"Isolated", false, []string{"the", "-", "final", "-", "-", "countdown"}},
		{"MergedWithPrevious", false, []string{"the-", "final-", "-", "countdown"}},
		{"MergedWithNext", false, []string{"the", "-final", "-", "-countdown"}},
		{"Contiguous", false, []string{"the", "-", "final", "--", "countdown"}},
		{"Removed", true, []string{"-", "-", "-"}},
	}
	for _, tc := range tests {
		t.Run(tc.behavior, func(t *testing.T) {
			dash := "-"
			p, err := buildPreTokenizer(&componentJSON{Type: "Split", Pattern: &patternJSON{String: &dash}, Behavior: tc.behavior, Invert: tc.invert}, nil)
			assert.NoError(t, err)
			assert.Equal(t, tc.want, p.apply([]string{"the-final--countdown"}, true))
		})
	}
}

// The Qwen2 pattern with its lookahead, through regexp2, splits as the
// Hugging Face (Oniguruma) pre-tokenizer does.
func TestQwenSplitPattern(t *testing.T) {
	const pat = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	p, err := buildPreTokenizer(&componentJSON{Type: "Split", Pattern: &patternJSON{Regex: ptr(pat)}, Behavior: "Isolated"}, nil)
	assert.NoError(t, err)
	tests := []struct {
		in   string
		want []string
	}{
		{"   multiple   spaces   ", []string{"  ", " multiple", "  ", " spaces", "   "}},
		{"I'M don'T", []string{"I", "'M", " don", "'T"}},
		{"a\n\n  b", []string{"a", "\n\n", " ", " b"}},
		{"x  \n", []string{"x", "  \n"}},
		{"1234 ab", []string{"1", "2", "3", "4", " ab"}},
		{"hi!!\n\nyo", []string{"hi", "!!\n\n", "yo"}},
		{"\u00a0a\u3000b", []string{"\u00a0a", "\u3000b"}},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, p.apply([]string{tc.in}, true), "%q", tc.in)
	}
}

func ptr(s string) *string { return &s }

// Lossy decoding replaces maximal invalid subparts (Unicode / WHATWG / Rust
// from_utf8_lossy), and holds an incomplete tail unless final.
func TestAppendLossy(t *testing.T) {
	tests := []struct {
		in       string
		final    bool
		want     string
		consumed int
	}{
		{"abc", false, "abc", 3},
		{"a\xf0\x9f\x91\x8b", true, "a👋", 5},
		{"a\xf0\x9f", false, "a", 1},
		{"a\xf0\x9f", true, "a\ufffd", 3},
		{"\xf0\x9fA", false, "\ufffdA", 3},
		{"\xff\xfe", false, "\ufffd\ufffd", 2},
		{"\xe0\x80\x80", true, "\ufffd\ufffd\ufffd", 3}, // overlong: E0 needs A0..BF next
		{"\xed\xa0\x80", true, "\ufffd\ufffd\ufffd", 3}, // surrogate
		{"\xe2\x82", false, "", 0},
		{"\xe2\x82\xac\xe2", false, "€", 3},
		{"\xc0\xaf", false, "\ufffd\ufffd", 2},
	}
	for _, tc := range tests {
		got, n := appendLossy(nil, []byte(tc.in), tc.final)
		assert.Equal(t, tc.want, string(got), "%q", tc.in)
		assert.Equal(t, tc.consumed, n, "%q", tc.in)
	}
}
