package tokenizer_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/tokenizer"
)

// Every reference encoding of both families is reproduced exactly.
func TestEncodingsFixture(t *testing.T) {
	for _, fam := range families {
		tk := load(t, fam)
		for _, e := range getFixture(t, fam).encodings {
			t.Run(fam+"/"+e.Text, func(t *testing.T) {
				assert.Equal(t, e.IDs, tk.Encode(e.Text, false), "ids")
				assert.Equal(t, e.IDsWithSpecial, tk.Encode(e.Text, true), "ids_with_special")
				assert.Equal(t, e.Decoded, tk.Decode(e.IDs, false), "decoded")
				assert.Equal(t, e.Decoded, tk.Decode(e.IDsWithSpecial, true), "decoded, special skipped")
			})
		}
	}
}

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

// Text spelling an added token is encoded as that token, longest first,
// whatever surrounds it.
func TestAddedTokenSplitting(t *testing.T) {
	tests := []struct {
		fam  string
		text string
		want []string // tokens
	}{
		{spm, "<s>", []string{"<s>"}},
		// The legacy SPM normalizer prepends ▁ to every text section, so a
		// section after an added token decodes with a space (as in HF).
		{spm, "<s>Hello", []string{"<s>", "▁Hello"}},
		{spm, "Hello</s>", []string{"▁Hello", "</s>"}},
		{spm, "a<s>b", []string{"▁a", "<s>", "▁b"}},
		{spm, "<s", []string{"▁<", "s"}},
		{byteLevel, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
			[]string{"<|im_start|>", "user", "Ċ", "Hi", "<|im_end|>", "Ċ", "<|im_start|>", "assistant", "Ċ"}},
		{byteLevel, "<|endoftext|><|endoftext|>", []string{"<|endoftext|>", "<|endoftext|>"}},
		{byteLevel, "x<think>y</think>", []string{"x", "<think>", "y", "</think>"}},
		{byteLevel, "<tool_call><tool_response>", []string{"<tool_call>", "<tool_response>"}},
		{byteLevel, "<|im_start", []string{"<", "|", "im", "_start"}},
	}
	for _, tc := range tests {
		t.Run(tc.fam+"/"+tc.text, func(t *testing.T) {
			tk := load(t, tc.fam)
			var got []string
			for _, id := range tk.Encode(tc.text, false) {
				s, ok := tk.Token(id)
				require.True(t, ok)
				got = append(got, s)
			}
			assert.Equal(t, tc.want, got)
			text := strings.Join(got, "")
			if tc.fam == spm {
				text = strings.TrimPrefix(strings.ReplaceAll(text, "▁", " "), " ")
			} else {
				text = tc.text
			}
			assert.Equal(t, text, tk.Decode(tk.Encode(tc.text, false), false))
		})
	}
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

func TestSpecialTokenInfo(t *testing.T) {
	tests := []struct {
		fam       string
		vocab     int
		bos       int
		hasBOS    bool
		eos       int
		special   []string
		notSpecal []string
	}{
		{spm, 32000, 1, true, 2, []string{"<s>", "</s>", "<unk>"}, []string{"▁Hello", "<0x41>"}},
		{byteLevel, 151669, 0, false, 151645, []string{"<|im_start|>", "<|im_end|>", "<|endoftext|>"}, []string{"<think>", "Hello"}},
	}
	for _, tc := range tests {
		t.Run(tc.fam, func(t *testing.T) {
			tk := load(t, tc.fam)
			assert.Equal(t, tc.vocab, tk.VocabSize())
			bos, ok := tk.BOS()
			assert.Equal(t, tc.hasBOS, ok)
			if tc.hasBOS {
				assert.Equal(t, tc.bos, bos)
			}
			eos, ok := tk.EOS()
			assert.True(t, ok)
			assert.Equal(t, tc.eos, eos)
			for _, s := range tc.special {
				id, ok := tk.TokenID(s)
				require.True(t, ok, s)
				assert.True(t, tk.IsSpecial(id), s)
			}
			for _, s := range tc.notSpecal {
				id, ok := tk.TokenID(s)
				require.True(t, ok, s)
				assert.False(t, tk.IsSpecial(id), s)
			}
			_, ok = tk.TokenID("no such token ¤")
			assert.False(t, ok)
			assert.Equal(t, "", tk.Decode([]int{-1, tk.VocabSize() + 5}, false), "unknown ids are ignored")
		})
	}
}

// Load reads a model folder; tokenizer_config.json is optional.
func TestLoad(t *testing.T) {
	f := getFixture(t, spm)
	tests := []struct {
		name       string
		withConfig bool
		wantBOS    bool
	}{
		{"with config", true, true},
		{"without config", false, true}, // the template processor still adds <s>
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), f.tokenizerJSON, 0o644))
			if tc.withConfig {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), f.configJSON, 0o644))
			}
			for _, path := range []string{dir, filepath.Join(dir, "tokenizer.json")} {
				tk, err := tokenizer.Load(path)
				require.NoError(t, err)
				e := f.encodings[0]
				assert.Equal(t, e.IDs, tk.Encode(e.Text, false))
				assert.Equal(t, e.IDsWithSpecial, tk.Encode(e.Text, true))
				_, ok := tk.BOS()
				assert.Equal(t, tc.wantBOS, ok)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	f := getFixture(t, spm)
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
		isUnsup bool
	}{
		{"missing tokenizer.json", map[string]string{}, "read tokenizer", false},
		{"corrupt json", map[string]string{"tokenizer.json": "{not json"}, "parse tokenizer.json", false},
		{"corrupt config", map[string]string{"tokenizer.json": string(f.tokenizerJSON), "tokenizer_config.json": "[1"}, "parse tokenizer_config.json", false},
		{"unigram model", map[string]string{"tokenizer.json": `{"model":{"type":"Unigram","vocab":{"a":0}},"decoder":{"type":"Fuse"}}`}, "model type", true},
		{"unknown normalizer", map[string]string{"tokenizer.json": `{"normalizer":{"type":"Precompiled"},"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"decoder":{"type":"Fuse"}}`}, "normalizer", true},
		{"bad merge", map[string]string{"tokenizer.json": `{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]},"decoder":{"type":"Fuse"}}`}, "missing from the vocab", false},
		{"merge without space", map[string]string{"tokenizer.json": `{"model":{"type":"BPE","vocab":{"a":0},"merges":["ab"]},"decoder":{"type":"Fuse"}}`}, "separated by a space", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tc.files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
			}
			_, err := tokenizer.Load(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Equal(t, tc.isUnsup, errors.Is(err, tokenizer.ErrUnsupported), err.Error())
		})
	}
}

// Extra reference encodings of edge cases (contractions, whitespace runs,
// Unicode spaces, scripts, added tokens in context, empty text), made by the
// same transformers.js implementation as the shared fixtures; see
// testdata/README.md.
func TestEncodingsExtra(t *testing.T) {
	for _, fam := range families {
		tk := load(t, fam)
		raw, err := os.ReadFile(filepath.Join("testdata", fam+".extra.json"))
		require.NoError(t, err)
		var encs []encoding
		require.NoError(t, json.Unmarshal(raw, &encs))
		require.NotEmpty(t, encs)
		for _, e := range encs {
			t.Run(fam+"/"+e.Text, func(t *testing.T) {
				ids := tk.Encode(e.Text, false)
				assert.Equal(t, e.IDs, ids, "ids")
				assert.Equal(t, e.IDsWithSpecial, tk.Encode(e.Text, true), "ids_with_special")
				assert.Equal(t, e.Decoded, tk.Decode(e.IDs, false), "decoded")
				assert.Equal(t, tk.Decode(ids, true), streamDecode(t, tk, ids, true), "stream")
			})
		}
	}
}

// One Tokenizer serves concurrent requests (run with -race to check).
func TestConcurrentUse(t *testing.T) {
	for _, fam := range families {
		tk := load(t, fam)
		encs := getFixture(t, fam).encodings
		done := make(chan struct{})
		for g := 0; g < 4; g++ {
			go func() {
				defer func() { done <- struct{}{} }()
				for _, e := range encs {
					assert.Equal(t, e.IDs, tk.Encode(e.Text, false))
					assert.Equal(t, e.Decoded, tk.Decode(e.IDs, false))
				}
			}()
		}
		for g := 0; g < 4; g++ {
			<-done
		}
	}
}

// Long inputs: a single 64 KB SentencePiece "word" and 64 KB of
// whitespace (the regex lookahead's worst case) encode and round-trip
// (their speed is measured by BenchmarkEncode).
func TestLongInputs(t *testing.T) {
	tests := []struct{ name, text string }{
		{"prose", strings.Repeat("The quick brown fox jumps over the lazy dog. ", 1500)},
		{"no spaces", strings.Repeat("abcdefghij", 6500)},
		{"spaces", strings.Repeat(" ", 65000) + "x"},
		{"newlines and spaces", strings.Repeat(" \n", 32000)},
	}
	for _, fam := range families {
		tk := load(t, fam)
		for _, tc := range tests {
			t.Run(fam+"/"+tc.name, func(t *testing.T) {
				ids := tk.Encode(tc.text, false)
				assert.Equal(t, tc.text, tk.Decode(ids, false))
			})
		}
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
