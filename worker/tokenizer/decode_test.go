package tokenizer_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/tokenizer"
)

// streamDecode pushes ids one at a time and checks every piece is valid UTF-8.
func streamDecode(t *testing.T, tk *tokenizer.Tokenizer, ids []int, skip bool) string {
	t.Helper()
	d := tk.NewStreamDecoder(skip)
	var b strings.Builder
	for _, id := range ids {
		s := d.Push(id)
		require.True(t, utf8.ValidString(s), "Push(%d) gave invalid UTF-8 %q", id, s)
		b.WriteString(s)
	}
	s := d.Flush()
	require.True(t, utf8.ValidString(s), "Flush gave invalid UTF-8 %q", s)
	b.WriteString(s)
	return b.String()
}

// Streaming and Decode give exactly the reference decoder's text for every
// fixture, with and without special tokens.
func TestStreamDecoderMatchesDecode(t *testing.T) {
	for _, fam := range families {
		tk := load(t, fam)
		for _, e := range getFixture(t, fam).encodings {
			t.Run(fam+"/"+e.Text, func(t *testing.T) {
				for _, skip := range []bool{false, true} {
					ids := tk.Encode(e.Text, true)
					want := refDecode(t, tk, fam, ids, skip)
					assert.Equal(t, want, streamDecode(t, tk, ids, skip), "skipSpecial=%v", skip)
					assert.Equal(t, want, tk.Decode(ids, skip), "skipSpecial=%v", skip)
				}
				assert.Equal(t, e.Decoded, streamDecode(t, tk, e.IDs, false))
			})
		}
	}
}

// Multi-byte text survives encode → decode, and the stream never splits a
// character even when tokens do.
func TestRoundTripMultiByte(t *testing.T) {
	texts := []struct{ name, text string }{
		{"emoji", "emoji 👋🌍 test 👨‍👩‍👧‍👦 and 🏳️‍🌈!"},
		{"cjk", "日本語のテキストと中文文本，还有한국어 텍스트。"},
		{"mixed", "Ünïcödé ∑∫√ — «quotes» 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u00a0nbsp"},
		{"rare", "𠜎𠜱𠝹𠱓 ꙮ 🦀🦙"},
		{"whitespace", "  a\t\tb\n\n\n  c   \r\n"},
		{"code", "func main() {\n\tfmt.Println(\"héllo\")\n}\n"},
	}
	for _, fam := range families {
		tk := load(t, fam)
		for _, tc := range texts {
			t.Run(fam+"/"+tc.name, func(t *testing.T) {
				ids := tk.Encode(tc.text, false)
				require.NotEmpty(t, ids)
				assert.Equal(t, tc.text, tk.Decode(ids, false))
				assert.Equal(t, tc.text, streamDecode(t, tk, ids, false))
			})
		}
	}
}

// Byte-fallback (SPM) and byte-level (Qwen) tokens split 👋 across tokens:
// the stream holds the partial bytes back and releases the whole character.
func TestStreamHoldsPartialCharacters(t *testing.T) {
	tests := []struct {
		fam    string
		tokens []string
		want   []string // text returned by each Push
	}{
		{spm, []string{"▁hi", "<0xF0>", "<0x9F>", "<0x91>", "<0x8B>", "!"}, []string{"hi", "", "", "", "👋", "!"}},
		{spm, []string{"<0xE2>", "<0x82>", "<0xAC>", "<0xE2>", "<0x82>", "<0xAC>"}, []string{"", "", "€", "", "", "€"}},
		{byteLevel, []string{"hi", "ĠðŁ", "ĳ", "ĭ", "!"}, []string{"hi", " ", "", "👋", "!"}},
	}
	for _, tc := range tests {
		t.Run(tc.fam, func(t *testing.T) {
			tk := load(t, tc.fam)
			d := tk.NewStreamDecoder(false)
			var ids []int
			for i, tok := range tc.tokens {
				id, ok := tk.TokenID(tok)
				require.True(t, ok, "token %q", tok)
				ids = append(ids, id)
				assert.Equal(t, tc.want[i], d.Push(id), "push %d (%q)", i, tok)
			}
			assert.Equal(t, "", d.Flush())
			assert.Equal(t, strings.Join(tc.want, ""), tk.Decode(ids, false))
		})
	}
}

// Invalid byte sequences decode to one U+FFFD per maximal invalid subpart
// (as Rust's from_utf8_lossy and TextDecoder do), and the stream agrees.
func TestDecodeInvalidBytes(t *testing.T) {
	tests := []struct {
		fam    string
		tokens []string
		want   string
	}{
		// ByteFallback runs: lossy UTF-8 too (see decoderSpec).
		{spm, []string{"▁a", "<0xF0>", "<0x9F>", "▁b"}, "a\uFFFD b"},
		{spm, []string{"<0xE2>", "<0x82>", "<0xAC>", "<0xFF>"}, "€\uFFFD"},
		{spm, []string{"<0xE2>", "<0x82>", "<0xAC>"}, "€"},
		{spm, []string{"<0xE2>", "<0x82>"}, "\uFFFD"},
		{spm, []string{"<0x20>", "x"}, "x"}, // the leading-space strip also applies to byte tokens
		// ByteLevel: lossy UTF-8, one U+FFFD per maximal invalid subpart.
		{byteLevel, []string{"a", "ðŁ", "b"}, "a\uFFFDb"},
		{byteLevel, []string{"ÿ", "þ"}, "\uFFFD\uFFFD"},
		{byteLevel, []string{"a", "ðŁ"}, "a\uFFFD"},
		{byteLevel, []string{"ðŁ", "<|im_end|>", "x"}, "\uFFFD<|im_end|>x"},
	}
	for _, tc := range tests {
		t.Run(tc.fam+"/"+strings.Join(tc.tokens, "+"), func(t *testing.T) {
			tk := load(t, tc.fam)
			var ids []int
			for _, tok := range tc.tokens {
				id, ok := tk.TokenID(tok)
				require.True(t, ok, "token %q", tok)
				ids = append(ids, id)
			}
			assert.Equal(t, tc.want, tk.Decode(ids, false))
			assert.Equal(t, tc.want, streamDecode(t, tk, ids, false))
		})
	}
}

// A skipped special token between the bytes of one character does not break
// it, in Decode and in the stream.
func TestSkipSpecialInsideCharacter(t *testing.T) {
	tk := load(t, byteLevel)
	end, ok := tk.TokenID("<|im_end|>")
	require.True(t, ok)
	var mixed []int // 👋 as bytes F0 9F | 91 | 8B with <|im_end|> inside
	for _, tok := range []string{"ðŁ", "<|im_end|>", "ĳ", "ĭ"} {
		id, ok := tk.TokenID(tok)
		require.True(t, ok, tok)
		mixed = append(mixed, id)
	}
	require.Equal(t, end, mixed[1])
	assert.Equal(t, "👋", tk.Decode(mixed, true))
	assert.Equal(t, "👋", streamDecode(t, tk, mixed, true))
	assert.Equal(t, "\uFFFD<|im_end|>", tk.Decode(mixed, false)[:len("\uFFFD<|im_end|>")])
}

// Special tokens are dropped by skipSpecial, non-special added tokens kept.
func TestDecodeSkipSpecial(t *testing.T) {
	tests := []struct {
		fam, text, keep, skip string
	}{
		{spm, "<s>Hi</s>", "<s> Hi</s>", "Hi"},
		{byteLevel, "<|im_start|>user\nHi<|im_end|>", "<|im_start|>user\nHi<|im_end|>", "user\nHi"},
		{byteLevel, "<think>x</think>", "<think>x</think>", "<think>x</think>"},
	}
	for _, tc := range tests {
		t.Run(tc.fam+"/"+tc.text, func(t *testing.T) {
			tk := load(t, tc.fam)
			ids := tk.Encode(tc.text, false)
			assert.Equal(t, tc.keep, tk.Decode(ids, false))
			assert.Equal(t, tc.skip, tk.Decode(ids, true))
		})
	}
}

// A stream continuing a prompt returns exactly the text Decode adds for the
// continuation, including the leading space SentencePiece drops only at the
// start of a sequence.
func TestStreamDecoderAfterContext(t *testing.T) {
	for _, fam := range families {
		tk := load(t, fam)
		for _, e := range getFixture(t, fam).encodings {
			ids := tk.Encode(e.Text, true)
			for k := 1; k < len(ids); k++ {
				prompt := tk.Decode(ids[:k], true)
				if strings.ContainsRune(prompt, utf8.RuneError) {
					continue // the prompt ends inside a character
				}
				d := tk.NewStreamDecoderAfter(ids[:k], true)
				var b strings.Builder
				for _, id := range ids[k:] {
					b.WriteString(d.Push(id))
				}
				b.WriteString(d.Flush())
				assert.Equal(t, tk.Decode(ids, true), prompt+b.String(), "%s %q split at %d", fam, e.Text, k)
			}
		}
	}
	tk := load(t, spm)
	prompt := tk.Encode("The capital of France is", true)
	d := tk.NewStreamDecoderAfter(prompt, true)
	id, ok := tk.TokenID("▁Paris")
	require.True(t, ok)
	assert.Equal(t, " Paris", d.Push(id))
	assert.Equal(t, "Paris", tk.NewStreamDecoder(true).Push(id), "without context the sequence-start strip applies")
}
