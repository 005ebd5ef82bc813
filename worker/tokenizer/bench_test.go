package tokenizer_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/tokenizer"
)

// benchText is a few KB of mixed prose, code, numbers and non-Latin text.
func benchText(t testing.TB) string {
	var b strings.Builder
	for _, e := range getFixture(t, spm).encodings {
		b.WriteString(e.Text)
		b.WriteString("\n")
	}
	base := b.String()
	return strings.Repeat(base, 4096/len(base)+1)
}

func BenchmarkEncode(b *testing.B) {
	text := benchText(b)
	for _, fam := range families {
		tk := load(b, fam)
		b.Run(fam, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tk.Encode(text, true)
			}
		})
	}
}

// BenchmarkEncodeReference is BenchmarkEncode's yardstick: one pass of Go's
// RE2 regexp over the same text with the Qwen2 split pattern minus its
// lookahead alternative, i.e. the least any regex pre-tokenizer costs.
func BenchmarkEncodeReference(b *testing.B) {
	text := benchText(b)
	re := regexp.MustCompile(`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+`)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		re.FindAllStringIndex(text, -1)
	}
}

func BenchmarkDecode(b *testing.B) {
	text := benchText(b)
	for _, fam := range families {
		tk := load(b, fam)
		ids := tk.Encode(text, true)
		b.Run(fam, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tk.Decode(ids, false)
			}
		})
	}
}

func BenchmarkLoad(b *testing.B) {
	for _, fam := range families {
		f := getFixture(b, fam)
		b.Run(fam, func(b *testing.B) {
			for b.Loop() {
				_, err := tokenizer.New(f.tokenizerJSON, f.configJSON)
				require.NoError(b, err)
			}
		})
	}
}
